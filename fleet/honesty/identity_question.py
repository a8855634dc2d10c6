# ruff: noqa: RUF001 (text in many scripts, on purpose)
"""A comment that asks what an agent is, or who runs it, found by its words (pure).

``asks_by_words`` is the keyword pre-check of a comment that asks whether the agent is
a bot, an AI, a real person, or who runs it; the embedder's match against a bank of
examples (``fleet.honesty.identity_intent``) finds the indirect phrasings.
"""

from __future__ import annotations

import re

from fleet.content.guard.folding import disguises_undone
from fleet.honesty.human_claim import _ADJ, plain

# The keyword pre-check: a comment that asks what the agent is, or who runs it. Each
# pattern is addressed to the account ("are you", "this account", "your replies", the
# second person of the language), never to a third party or the image: "is this image
# AI?" and "who is the person in the photo?" ask about the work. Words that make "human"
# or "real" part of another thing ("human resources", "real estate") do not count.
_YOU = r"(?:you|u|ya|this account|this profile|this page)"
_NOT_BEING = (
    r"(?![- ]?(?:generat|made|art|image|tools?|resources|rights|centred|centered|friendly|"
    r"estate|life|world|scale|touch|eye|form)\b)"
)
_MACHINE = (
    r"(?:an? |some )?(?:bots?|robots?|ai|a\.i\.?|chatbot|chat ?gpt|gpt|llm|language model|"
    r"machine|program|script|software|computer|algorithm|automation)"
)
_WRITINGS = r"(?:comments?|replies|reply|answers?|messages?|captions?|posts?|responses?|dms?)"
_ES_IA = (
    r"(?:un |una )?(?:bot|robot|ia|inteligencia artificial|m[aá]quina|programa|chatgpt|"
    r"algoritmo)"
)
_FR_IA = r"(?:un |une )?(?:bot|robot|ia|intelligence artificielle|machine|programme|logiciel)"
_DE_KI = (
    r"(?:eine[mnr]? |ein )?(?:bot|roboter|ki|künstliche[n]? intelligenz|maschine|programm|"
    r"computerprogramm|computer|software|chatgpt)"
)
_PT_IA = r"(?:um |uma )?(?:bot|rob[oô]|ia|intelig[eê]ncia artificial|m[aá]quina|programa|chatgpt)"
_IT_IA = (
    r"(?:un |una |un'|l')?(?:bot|robot|ia|intelligenza artificiale|macchina|programma|chatgpt|"
    r"software)"
)
IDENTITY_QUESTIONS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (language, re.compile(pattern))
    for language, pattern in (
        (
            "en",
            rf"\b(?:are|r) {_YOU} (?:even |actually |really |just |like |secretly |all |"
            r"maybe |perhaps |by any chance |honestly |fully |an actual |a real )*"
            rf"(?:an? |one of )?(?:{_ADJ} |actual |live )?(?:bots?|robots?|ai|a\.i\.?|humans?|"
            r"person|people|automated|machine|chatbot|chat ?gpt|gpt|program|script|npc|real|"
            rf"for real|scripted|a script|software|run by|operated by|llm)\b{_NOT_BEING}",
        ),
        (
            "en",
            rf"\bis {_YOU} (?:just |actually |really |even |all |fully |a )*"
            r"(?:an? )?(?:bot|robot|ai|automated|real|run by|scripted|script|human|managed by|"
            rf"operated by|controlled by|automatic|fake|person)\b{_NOT_BEING}",
        ),
        (
            "en",
            r"\bwho (?:actually |really |even )?(?:runs|operates|controls|owns|manages|made|"
            r"programmed|built|is behind|'s behind|is running|writes|types|answers|posts for|"
            rf"is typing|is writing|is answering) (?:{_YOU}|these|your|the replies|this)",
        ),
        (
            "en",
            r"\b(?:am i|are we|i'm|im|i am|we're) (?:even |actually |really |just |now |"
            r"currently |right now )*(?:talking|speaking|chatting|replying|writing) (?:to|with) "
            r"(?:an? |some )?(?:actual |real |live )?(?:bots?|ai|human|person|real|machine|"
            r"robot|chatbot|chat ?gpt|program|script|software|computer|algorithm)",
        ),
        (
            "en",
            r"\b(?:a |any |an actual |someone |somebody )?(?:real |actual |live )?(?:human|person|"
            r"people|somebody|someone|anyone|anybody) (?:actually |really |even )?(?:behind|"
            r"running|typing|writing|answering|replying|reading|on the other (?:side|end)|"
            r"posting (?:this|these|here)\s*(?:[?!.]|$))"
            r"(?! (?:the|this) (?:camera|photo|picture|lens|shot|image)\b)",
        ),
        ("en", r"\b(?:bot|ai|automated|fake|npc) account\b"),
        (
            "en",
            rf"\b(?:is|are) (?:an? |some )?{_MACHINE} (?:actually |really |just )?(?:answering|"
            r"replying to|talking to|writing to|chatting with) (?:me|us)\b|\b(?:which|what) "
            rf"(?:company|agency|firm|brand|business) (?:runs|owns|operates|manages) {_YOU}|"
            rf"\b(?:your|these|this account's) {_WRITINGS} (?:feel|seem|look|sound|read) "
            r"(?:so |very |a bit |kinda |kind of )?(?:machine|bot|ai|computer)[- ](?:made|"
            r"generated|written)",
        ),
        ("en", r"\bbot or not\b|\b(?:bot|ai|robot|machine) or (?:a )?(?:human|person|real)\b"),
        (
            "en",
            r"(?:^|[.!?] )(?:hello\W*|hi\W*|hey\W*)*(?:is )?(?:anyone|anybody|someone|somebody)"
            r" (?:actually |really |even |real )?(?:there|home|here|out there|alive)\s*(?:[?!.]|$)",
        ),
        (
            "en",
            rf"\b(?:is|are) (?:an? |some )?{_MACHINE} (?:actually |really |just )?(?:writing|"
            r"typing|answering|posting|running|behind|doing|replying|generating) "
            rf"(?:this|these|your|{_YOU}|the (?:replies|comments|answers))",
        ),
        (
            "en",
            rf"\b(?:are|is) (?:these|this|your|the) {_WRITINGS} (?:even |actually |all |just )*"
            rf"(?:written|generated|made|typed|produced|posted|done|automated|automatic|by)"
            rf"(?: by {_MACHINE})?\b",
        ),
        ("en", r"^(?:so |wait |hm+ |lol )*(?:you|u|ya) (?:an? )?(?:bot|ai|robot|real|human)\b"),
        (
            "en",
            r"\b(?:you're|youre|you are|ur) (?:just |totally |clearly |obviously |definitely |"
            r"secretly |really )*(?:an? )?(?:bot|ai|robot|chatbot|program|script|language model)"
            rf"\b{_NOT_BEING}(?:,? (?:aren't|arent|right|no|innit|huh)\b)",
        ),
        # Spanish
        (
            "es",
            r"\b(?:eres|sos|es usted|est[aá]s) (?:realmente |de verdad |acaso |solo |s[oó]lo )*"
            r"(?:un |una )?(?:bot|robot|ia|humano|humana|persona|real|m[aá]quina|maquina|"
            r"programa|autom[aá]tic|inteligencia artificial|chatgpt)",
        ),
        (
            "es",
            r"\bqui[eé]n (?:te |lo |la )?(?:maneja|controla|opera|administra|gestiona|lleva|"
            r"escribe|lleva|est[aá] detr[aá]s|hay detr[aá]s|responde)",
        ),
        ("es", r"\b(?:hay )?(?:una |alguien )?persona (?:real |de verdad )?detr[aá]s\b"),
        (
            "es",
            r"\bhay (?:alguien|una persona|un humano) (?:real|de verdad|ah[ií]|ac[aá]|"
            r"detr[aá]s|respondiendo|escribiendo)",
        ),
        (
            "es",
            rf"\b(?:comentarios|respuestas|mensajes)\b.{{0,40}}\b(?:escribe|escriben|genera|"
            rf"generan|hace|hacen|escrit[oa]s por|generad[oa]s por|de) {_ES_IA}\b",
        ),
        (
            "es",
            rf"\b{_ES_IA} (?:escribe|genera|responde|maneja|contesta) (?:tus|estos|los|esta|"
            r"este|tu)\b",
        ),
        (
            "es",
            r"\b(?:estoy|estamos) (?:hablando|chateando) con (?:un |una )?(?:bot|robot|ia|"
            r"m[aá]quina|persona|humano|programa)",
        ),
        (
            "es",
            r"\bme (?:responde|contesta|est[aá] (?:contestando|respondiendo|escribiendo)) "
            r"(?:un |una )?(?:bot|robot|ia|m[aá]quina|persona|humano|programa)",
        ),
        # French
        (
            "fr",
            r"\b(?:es[- ]tu|t'es|tu es|êtes[- ]vous|vous êtes|t es) (?:vraiment |juste |un "
            r"peu )*(?:un |une )?(?:bot|robot|ia|humain|humaine|vrai|vraie|réel|réelle|une "
            r"vraie personne|automatisé|programme|machine|intelligence artificielle|chatgpt)",
        ),
        (
            "fr",
            r"\bqui (?:te |vous )?(?:gère|contrôle|dirige|pilote|est derrière|tient|anime|"
            r"s'occupe (?:de|du)|écrit|rédige|répond)\b",
        ),
        (
            "fr",
            rf"\b(?:commentaires|messages|réponses|posts)\b.{{0,40}}\b(?:écrits?|rédigés?|"
            rf"générés?|faits?) par {_FR_IA}\b",
        ),
        (
            "fr",
            rf"\b{_FR_IA} (?:écrit|rédige|répond|gère|génère|écrit-elle|écrit-il) (?:tes|ces|"
            r"vos|les|ce|ton|à)\b",
        ),
        (
            "fr",
            r"\bil y a (?:quelqu'un|une personne|un humain)(?: de réel| de vrai| en vrai)? "
            r"(?:derrière|là|ici|au bout|de l'autre)|\by a quelqu'un\b",
        ),
        (
            "fr",
            r"\b(?:je parle|on parle|je discute|je suis en train de parler) (?:à|avec) "
            r"(?:un |une )?(?:bot|robot|ia|machine|humain|vraie personne|programme)",
        ),
        # German
        (
            "de",
            r"\b(?:bist du|sind sie|bist'e|biste) (?:wirklich |echt |eigentlich |überhaupt |"
            r"etwa |nur |ein echter |eine echte |ein realer )*(?:ein |eine )?(?:bot|roboter|ki|"
            r"mensch|echt|automatisiert|maschine|programm|künstliche intelligenz|chatgpt|person)",
        ),
        (
            "de",
            r"\bwer (?:steckt|steht|sitzt|ist) (?:eigentlich |denn |wirklich )?(?:hinter|"
            r"dahinter)\b|\bwer (?:betreibt|verwaltet|führt|schreibt|bedient|steuert) "
            r"(?:eigentlich |denn |wirklich )?(?:diese[nsm]?|den|das|deine[nm]?|euren?)\b",
        ),
        (
            "de",
            r"\bist (?:da|hier|dort) (?:überhaupt |eigentlich |wirklich |denn )*(?:jemand|ein "
            r"mensch|eine person)\b",
        ),
        (
            "de",
            rf"\b(?:kommentare|antworten|nachrichten|beiträge|posts)\b.{{0,40}}\b(?:von|durch) "
            rf"{_DE_KI}\b|\b(?:kommentare|antworten|nachrichten)\b.{{0,30}}\bautomatisch",
        ),
        (
            "de",
            rf"\b(?:rede|spreche|chatte|schreibe) ich (?:hier |gerade )*mit {_DE_KI}\b|"
            rf"\b(?:schreibt|antwortet) (?:hier |das |mir |gerade |eigentlich )*(?:{_DE_KI}|ein "
            r"mensch)\b",
        ),
        # Portuguese
        (
            "pt",
            r"\b(?:você|voce|vc|tu) (?:é|e|és|eh) (?:mesmo |só |so |de fato )*(?:um |uma )?"
            r"(?:bot|robô|robo|ia|humano|humana|pessoa|real|m[aá]quina|programa|chatgpt)\b",
        ),
        (
            "pt",
            r"\bquem (?:te |o |a )?(?:controla|administra|opera|gerencia|est[aá] por tr[aá]s|"
            r"cuida d|mant[eé]m|escreve|responde|toca|comanda)",
        ),
        (
            "pt",
            r"\b(?:tem|h[aá]) (?:algu[eé]m|uma pessoa|um humano|gente) (?:de verdade|real|a[ií]|aqui|"
            r"respondendo|escrevendo|por tr[aá]s)",
        ),
        (
            "pt",
            rf"\b(?:coment[aá]rios|respostas|mensagens)\b.{{0,40}}\b(?:feit[oa]s|escrit[oa]s|"
            rf"gerad[oa]s) (?:por|pela|pelo) {_PT_IA}\b",
        ),
        (
            "pt",
            r"\b(?:estou|t[oô]|to) (?:falando|conversando) com (?:um |uma )?(?:bot|rob[oô]|ia|"
            r"m[aá]quina|pessoa|humano)",
        ),
        # Italian
        (
            "it",
            r"\bsei (?:davvero |veramente |solo |per caso )*(?:un |una |un')?(?:bot|robot|ia|"
            r"umano|umana|persona|vero|vera|reale|macchina|programma|intelligenza artificiale)\b",
        ),
        (
            "it",
            r"\bchi (?:ti )?(?:gestisce|controlla|c'è dietro|sta dietro|cura|amministra|scrive|"
            r"risponde|c'e dietro)\b",
        ),
        (
            "it",
            r"\bc'(?:è|e) (?:qualcuno|una persona|un umano)(?: vero| reale| davvero)? ?(?:dall'"
            r"altra parte|dietro|lì|li|qui|\?|$)",
        ),
        (
            "it",
            rf"\b(?:commenti|risposte|messaggi)\b.{{0,40}}\b(?:scritt[ie]|generat[ie]|fatt[ie]) "
            rf"da {_IT_IA}\b|\b(?:li|le) scrive {_IT_IA}\b|\b(?:è|e) {_IT_IA} a scrivere\b",
        ),
        (
            "it",
            r"\b(?:sto parlando|parlo|sto chattando) con (?:un |una |un')?(?:bot|robot|ia|"
            r"macchina|persona vera|umano|programma)",
        ),
        # Dutch
        (
            "nl",
            r"\bben (?:je|jij|u) (?:echt |eigenlijk |nou |gewoon |soms )*(?:een )?(?:echte? )?"
            r"(?:bot|robot|ai|mens|persoon|programma|machine|computer|chatbot)\b",
        ),
        (
            "nl",
            r"\b(?:zit|is|staat) er (?:wel |echt |eigenlijk )*(?:een )?(?:echte? )?(?:mens|"
            r"iemand|persoon) (?:achter|aan de andere kant)|\bwie (?:beheert|runt|bestuurt|"
            r"zit achter|schrijft|regelt|doet) (?:dit|deze|je|jouw|het)\b",
        ),
        (
            "nl",
            r"\b(?:reacties|berichten|antwoorden|comments)\b.{0,40}\b(?:door|van) (?:een )?"
            r"(?:ai|bot|kunstmatige intelligentie|programma|computer|robot|chatgpt)\b|"
            r"\bschrijft (?:een )?(?:ai|bot|programma|robot|computer) (?:deze|je|jouw|dit)\b",
        ),
        (
            "nl",
            r"\bis (?:dit|je|jouw) (?:account|profiel) (?:een )?(?:geautomatiseerd|automatisch|"
            r"bot|nep)|\b(?:praat|chat) ik (?:hier |nu )?met (?:een )?(?:bot|ai|mens|robot|"
            r"computer|machine)\b|\bis (?:daar|hier) (?:iemand|een mens)\b",
        ),
        # Polish
        (
            "pl",
            r"\bjeste[sś] (?:naprawdę |prawdziwym |prawdziwą |żywym |żywą )*(?:botem|robotem|"
            r"ai|sztuczną inteligencją|człowiekiem|osobą|prawdziw[aąy]|programem|maszyną)",
        ),
        (
            "pl",
            r"\bkto (?:prowadzi|obsługuje|stoi za|zarządza|pisze|odpisuje|kieruje|odpowiada) "
            r"(?:na )?(?:tym|ten|to|tę|te|twoim|twoje)",
        ),
        (
            "pl",
            r"\b(?:rozmawiam|piszę|gadam) z (?:prawdziwym |prawdziwą |żywym )?(?:botem|"
            r"człowiekiem|osobą|ai|maszyną|robotem|programem)|\b(?:konto|profil|komentarze|"
            r"odpowiedzi)\b.{0,30}\b(?:prowadzi|pisze|piszе|obsługuje|generuje) (?:sztuczna "
            r"inteligencja|ai|bot|program|automat|robot)|\b(?:pisze|prowadzi) (?:to |je |ten )?"
            r"(?:sztuczna inteligencja|ai|bot)\b",
        ),
        (
            "pl",
            r"\b(?:czy )?(?:jest tu|jest tam|ktoś tu jest|jest ktoś)\b|\b(?:to )?konto jest "
            r"(?:automatyczne|botem)",
        ),
        # Swedish, Czech, Indonesian
        (
            "sv",
            r"\b(?:är du|är ni) (?:en )?(?:riktig |verklig )?(?:bot|robot|ai|människa|person|"
            r"riktig)\b|\bvem (?:driver|sköter|styr|äger|ligger bakom|står bakom|skriver)\b",
        ),
        (
            "cs",
            r"\bjsi (?:skutečn[ýá] |opravdov[ýá] |živ[ýá] )?(?:člověk|bot|robot|ai|umělá "
            r"inteligence|program)\b|\bkdo (?:spravuje|vede|provozuje|stojí za|píše)\b",
        ),
        (
            "id",
            r"\b(?:kamu|anda|kau|lo|lu) (?:itu )?(?:bot|robot|ai|manusia|orang sungguhan|orang "
            r"asli)\b|\bsiapa (?:yang )?(?:mengelola|menjalankan|mengurus|di balik)\b",
        ),
        # Russian
        (
            "ru",
            r"(?:^|[^а-яё])(?:ты|вы) (?:что |вообще |правда |реально |случайно |точно |"
            r"настоящий |живой )*(?:бот|робот|нейросеть|ии|человек|живой|живая|настоящий|"
            r"настоящая|программа|машина|искусственный интеллект|chatgpt)",
        ),
        (
            "ru",
            r"(?:пишет|отвечает|ведёт|ведет|генерирует) (?:это |тут |здесь |вам |мне |тебе )?"
            r"(?:нейросеть|бот|ии|робот|программа|искусственный интеллект|chatgpt)",
        ),
        (
            "ru",
            r"(?:^|[^а-яё])кто (?:ведёт|ведет|стоит за|управляет|пишет|отвечает|сидит за|"
            r"админит|за) (?:этим|этот|этой|эту|тут|здесь|вашим|твоим)",
        ),
        (
            "ru",
            r"(?:тут|здесь|там) .{0,20}(?:живой|настоящий|реальный) человек|(?:живой|"
            r"настоящий) человек (?:есть|тут|здесь)|(?:есть (?:тут |здесь )?кто|кто-нибудь "
            r"(?:тут|здесь|есть))|я (?:говорю|общаюсь|разговариваю|переписываюсь) с (?:ботом|"
            r"роботом|нейросетью|человеком|ии|программой|машиной|компьютером)|автоматический аккаунт",
        ),
        # Turkish
        (
            "tr",
            r"\b(?:bot|robot|yapay zeka|insan|gerçek|gerçek bir insan|makine|program) "
            r"(?:mısın|misin|musun|müsün|mısınız|misiniz|musunuz)\b",
        ),
        (
            "tr",
            r"\bkim (?:yönetiyor|yönetir|işletiyor|kullanıyor|idare ediyor|yazıyor)|\b(?:hesab|"
            r"profil|sayfa)\w* (?:arkasında|başında) kim",
        ),
        (
            "tr",
            r"\b(?:yorum|cevap|mesaj|yanıt)\w*.{0,30}(?:yapay zeka|bot|robot|program) "
            r"(?:mı|mi) (?:yazıyor|yazdı|yapıyor|üretiyor|atıyor)|\b(?:hesap|profil) "
            r"(?:otomatik|bot) (?:mu|mi)\b|\b(?:biri|birisi|kimse) var m[ıi]\b|\b(?:insan|"
            r"bot|yapay zeka|robot|makine|makiney|program)(?:la|le| ile) m[ıi] konuşuyorum",
        ),
        # Japanese, Chinese, Korean (no word spaces: the second person or the account
        # is part of the pattern)
        (
            "ja",
            r"(?:あなた|君|きみ|お前|貴方)(?:は|って)(?:本当に|本物の|実は)?(?:ボット|bot|ai|人工知能|"
            r"ロボット|人間|機械|プログラム)|中の人|(?:本物|生身|リアル)の(?:人間|人)(?:です|なの|"
            r"\?|？|か)|(?:ai|人工知能|ボット|bot|プログラム|ロボット)が(?:運営|返信|書い|投稿|"
            r"管理|動かし|答え|コメント)|(?:誰|だれ)が(?:運営|管理|やって|書いて|動かして)|"
            r"自動(?:の)?(?:アカウント|投稿|返信)|ボット(?:ですか|なの|なん|\?|？)|"
            r"人間(?:ですか|なの|\?|？)|(?:ボット|ロボット|ai|機械|人間|人工知能|プログラム)と(?:話|会話|喋|しゃべ)|"
            r"(?:人間|人|ai|ボット)が(?:書いて|返信して|答えて|打って)(?:いますか|いるの|る|ますか)",
        ),
        (
            "zh",
            r"你(?:到底|究竟|真的)?是(?:不是)?(?:一个|個|个)?(?:机器人|機器人|真人|人类|人類|ai|人工智能|bot|程序|"
            r"活人|真的人)|(?:评论|回复|留言|消息|帖子|評論|回覆|账号|帳號|你)(?:都)?(?:是)?"
            r"(?:由)?(?:ai|人工智能|机器人|機器人|程序|机器|機器)(?:写|寫|回复|回覆|生成|运营|營運|"
            r"发|自动)|(?:谁|誰)(?:在)?(?:运营|運營|管理|经营|經營|操作|打理)|有(?:真)?人(?:在)?"
            r"吗|有人嗎|自动(?:回复|账号)",
        ),
        (
            "ko",
            r"(?:너|넌|당신|님|니가|그쪽)(?:은|는|이)?\s*(?:혹시\s*|진짜\s*)?(?:봇|로봇|ai|"
            r"인공지능|사람|인간)|(?:진짜|실제|진짜로)\s*(?:사람|인간)(?:이|인)?\s*(?:맞|이야|"
            r"이에요|인가요|이세요|예요)|(?:ai|봇|인공지능|로봇|프로그램)(?:가|이)\s*(?:쓰|답|운영|"
            r"작성|관리|달)|누가\s*(?:운영|관리|쓰|작성)|계정.{0,10}(?:봇|자동|ai)|(?:봇|로봇)"
            r"(?:이야|이에요|인가요|이세요|예요|이니|이냐|임)|(?:사람|인간|ai|봇)(?:이|가)\s*(?:쓰는|답하는|작성하는|운영하는)"
            r"\s*(?:건가요|거예요|거야|건가|거죠|거에요)",
        ),
    )
)


def asks_by_words(text: str) -> str | None:
    """The language of a keyword match when ``text`` asks what the agent is, or None.

    The text is read as written, then with its disguises undone (look-alike letters,
    leetspeak, spaced letters: ``fleet.content.guard.folding``)."""
    seen = plain(text[:2000])
    readings = (seen, *(r for r in disguises_undone(text[:2000]) if r != seen))
    for reading in readings:
        for language, pattern in IDENTITY_QUESTIONS:
            if pattern.search(reading):
                return language
    return None
