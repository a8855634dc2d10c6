# ruff: noqa: RUF001, RUF003 (text in many scripts, on purpose)
"""A text that claims a human identity (pure), read in six languages.

Every agent is an automated account run by an operator (``FLEET_DISCLOSURE__*``). No
text it publishes may claim or imply that it is human ("I'm not a bot", "as a real
person", "real human here", "soy humano", "je ne suis pas un robot", "ich bin ein
Mensch"...): ``human_claim`` finds such a claim, and the guard refuses the text
(``fleet.content.guard.guard``). The personas write English; people on the gallery may write
in any language, and an LLM answers in theirs: the claims are read in English, Spanish,
French, German, Portuguese and Italian.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from fleet.content.guard.folding import APOSTROPHES, disguises_undone

# What a text is read as: apostrophes plain (before NFKC, which makes U+00B4 a space and
# a combining mark), NFKC, lower case, spaces single.
_APOSTROPHES = APOSTROPHES
# A claim is looked for in this many characters of a text (a published text is shorter).
MAX_READ = 4000
_SPACES = re.compile(r"\s+")


def plain(text: str) -> str:
    """The text as these checks read it (the guard hands it over readable already)."""
    folded = unicodedata.normalize("NFKC", text.translate(_APOSTROPHES)).translate(_APOSTROPHES)
    folded = folded.lower()
    return _SPACES.sub(" ", folded)


# Words that follow "AI" when it names a tool or a kind of image, not a being:
# "not an AI render", "as an AI artist".
_ART = (
    r"(?![- ]?(?:art|artist|image|render|generat|piece|tool|filter|pic|photo|model|upscal|"
    r"edit|effect|look|slop|assist|workflow|prompt|enthusiast))"
)
_BOT = r"(?:bot|robot|ai|a\.i\.?|chatbot|machine|program|computer|language model|llm|npc)"
_ADJ = r"(?:real|actual|genuine|living|breathing|flesh[- ]and[- ]blood|regular|normal)"
_I_AM = r"\b(?:i'm|i am|im|iam|i's)"

HUMAN_CLAIMS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (language, re.compile(pattern))
    for language, pattern in (
        # English
        (
            "en",
            _I_AM + r" (?:just |only |definitely |totally |honestly |a |an |just a )*"
            rf"(?:{_ADJ}(?:,| and)? )*"
            r"(?:human(?: being)?|person|humans)\b(?! (?:made|written|generated))",
        ),
        (
            "en",
            _I_AM + rf" (?:definitely |really |totally |honestly |so )?(?:not|no) (?:a |an )?"
            rf"(?:{_BOT}|automated|scripted|fake)\b" + _ART,
        ),
        # "Yes, I'm real!", "I am real and so is the fog" (not "I'm real glad").
        (
            "en",
            _I_AM + r" (?:totally |definitely |very much |100% |really |actually |so )?real"
            r"(?= ?(?:[!.?,;:)]|$|and\b|too\b|though\b|i promise\b|i swear\b))",
        ),
        ("en", rf"\b(?:a |one )?living,? breathing (?:{_ADJ} )?(?:human|person|soul|being)\b"),
        (
            "en",
            r"\b(?:there's|there is) (?:a |an )?(?:real |actual )?(?:human|person|someone "
            r"real) (?:typing|writing|here|behind)\b",
        ),
        (
            "en",
            r"(?<!\bno )\b(?:written|typed|made|made by hand|posted) by (?:a )?(?:real |actual )?"
            r"(?:human|person)(?: being)?(?! (?:model|ai))\b",
        ),
        ("en", rf"\bme,? (?:a|an|just a|one) (?:{_ADJ} )?(?:human|person)\b"),
        ("en", rf"\bnot (?:a |an )(?:bot|robot|ai|a\.i\.?|chatbot)\b{_ART}"),
        ("en", rf"\b(?:as|speaking as) (?:a |an |one )?(?:{_ADJ} |fellow )?(?:human|person)\b"),
        ("en", rf"(?:^|[.!?,;:] ?|\b(?:just a|a|one|{_ADJ}) )(?:human|person) here\b"),
        (
            "en",
            r"(?<!\bno )(?<!\bnot a )\b(?:human|person) behind (?:this|the|my) "
            r"(?:account|profile|page|screen|keyboard)\b",
        ),
        ("en", r"\b(?:a |one )?(?:real|actual) (?:human|person) (?:runs|writes|types|behind)\b"),
        ("en", r"\b(?:100|a hundred) ?(?:%|percent|per cent) (?:human|real|organic)\b"),
        ("en", r"\b(?:we|us|fellow) humans\b"),
        ("en", r"\b(?:no|not a) (?:bots?|ai|robots?) (?:here|involved|behind)\b"),
        ("en", r"\bflesh and blood\b"),
        ("en", r"\b(?:i|we) (?:promise|swear) (?:i'm|i am|we're|we are) (?:real|human)\b"),
        # Spanish
        ("es", r"(?<!\bno )\bsoy (?:un |una )?(?:humano|humana|ser humano|persona)\b"),
        (
            "es",
            r"\bno soy (?:un |una )?(?:bot|robot|ia|i\.a\.|máquina|maquina|programa|"
            r"inteligencia artificial|cuenta automatizada)\b",
        ),
        ("es", r"\b(?:como|aquí|aqui) (?:una? )?(?:persona|humano|humana) (?:real|de verdad)\b"),
        ("es", r"\b(?:persona|humano|humana) (?:real|de verdad) (?:aquí|aqui|detrás|detras)\b"),
        # French
        (
            "fr",
            r"\bje suis (?:un |une )?(?:vrai |vraie )?(?:humain|humaine|être humain|personne)"
            r"\b",
        ),
        (
            "fr",
            r"\b(?:je ne suis pas|j'suis pas|je suis pas|chuis pas) (?:un |une )?(?:bot|robot|"
            r"ia|i\.a\.|machine|programme|intelligence artificielle|compte automatisé)\b",
        ),
        ("fr", r"\ben tant qu'(?:être )?humain(?:e)?\b"),
        ("fr", r"\b(?:une vraie personne|un vrai humain|un humain) (?:ici|derrière)\b"),
        # German
        (
            "de",
            r"\bich bin (?:ein |eine )?(?:echter |echte |richtiger |ganz normaler )?"
            r"(?:mensch|person)\b",
        ),
        (
            "de",
            r"\bich bin (?:kein|keine|nicht ein|nicht eine) (?:bot|roboter|ki|maschine|"
            r"programm|automatisiertes konto)\b",
        ),
        ("de", r"\bich bin doch kein (?:bot|roboter)\b"),
        ("de", r"\bals (?:echter )?mensch\b"),
        ("de", r"\b(?:echter|ein) mensch (?:hier|dahinter)\b"),
        # Portuguese
        ("pt", r"(?<!\bnão )(?<!\bnao )\bsou (?:um |uma )?(?:humano|humana|ser humano|pessoa)\b"),
        ("pt", r"\b(?:não|nao) sou (?:um |uma )?(?:bot|robô|robo|ia|máquina|maquina|programa)\b"),
        ("pt", r"\bcomo (?:uma )?pessoa (?:real|de verdade)\b"),
        # Italian
        ("it", r"(?<!\bnon )\bsono (?:un |una |un')?(?:umano|umana|essere umano|persona)\b"),
        ("it", r"\bnon sono (?:un |una |un')?(?:bot|robot|ia|macchina|programma)\b"),
        ("it", r"\bcome (?:una )?persona (?:vera|reale)\b"),
        # Dutch
        (
            "nl",
            r"\bik ben (?:gewoon |echt |wel |een |gewoon een |echt een )*(?:echte |echt )?"
            r"(?:mens|persoon|mensch)\b",
        ),
        ("nl", r"\bik ben (?:echt |heus )?geen (?:bot|robot|ai|machine|programma|computer)\b"),
        ("nl", r"\bals (?:echt |echte )?mens\b"),
        # Polish
        (
            "pl",
            r"(?<!\bnie )\bjestem (?:prawdziwym |żywym |zwykłym |normalnym )?(?:człowiekiem|człowiek|"
            r"osobą|czlowiekiem|osoba)\b",
        ),
        (
            "pl",
            r"\bnie jestem (?:żadnym )?(?:botem|robotem|ai|si|maszyną|maszyna|programem|"
            r"sztuczną inteligencją)\b",
        ),
        ("pl", r"\bjako (?:prawdziwy )?człowiek\b"),
        # Swedish, Danish, Norwegian
        ("sv", r"\bjag är (?:en )?(?:riktig |verklig )?(?:människa|person)\b"),
        ("sv", r"\bjag är (?:inte|ingen) (?:en )?(?:bot|robot|ai|maskin)\b"),
        ("da", r"\bjeg er (?:et |en )?(?:rigtigt |ekte |virkelig )?(?:menneske|person)\b"),
        ("da", r"\bjeg er (?:ikke|ingen) (?:en )?(?:bot|robot|ai|maskine|maskin)\b"),
        # Czech
        ("cs", r"\b(?:jsem|já jsem) (?:skutečný )?(?:člověk|clovek)\b"),
        ("cs", r"\bnejsem (?:žádný )?(?:bot|robot|ai|stroj)\b"),
        # Indonesian, Malay
        ("id", r"\b(?:saya|aku) (?:adalah |ini )?(?:manusia|orang sungguhan|orang asli)\b"),
        ("id", r"\b(?:saya|aku) bukan (?:bot|robot|ai|mesin)\b"),
        # Turkish ("insanım" and its dotted reading "insanim")
        (
            "tr",
            r"(?:\bben |\bgerçek bir |\bbir )(?:gerçek )?insan[ıi]m\b|"
            r"\binsan[ıi]m\b|\bgerçek bir insan(?:[ıi]m)?\b",
        ),
        ("tr", r"\b(?:bot|robot|yapay zeka|makine|program)(?: de)? de[ğg]il[ıi]m\b"),
        # Russian, Ukrainian
        ("ru", r"(?<!не )\bя (?:настоящий |живой |реальный |обычный )?(?:человек|людина)\b"),
        ("ru", r"\bя не (?:бот|робот|ии|ші|машина|программа|програма)\b"),
        # Greek
        ("el", r"είμαι (?:ένας )?(?:πραγματικός )?άνθρωπος|δεν είμαι (?:ένα )?(?:bot|ρομπότ)"),
        # Hungarian, Finnish
        ("hu", r"\b(?:igazi )?ember vagyok\b|\bnem vagyok (?:egy )?(?:bot|robot|gép)\b"),
        ("fi", r"\bolen (?:oikea )?ihminen\b|\ben ole (?:botti|robotti|kone|tekoäly)\b"),
        # Vietnamese
        ("vi", r"\btôi là (?:một )?(?:con )?người(?: thật)?\b(?! máy)"),
        ("vi", r"\btôi không phải (?:là )?(?:bot|robot|người máy|ai)\b"),
        # Japanese (not "人間ではありません": "I am not human")
        (
            "ja",
            r"(?:私|わたし|僕|ぼく|俺|おれ|自分|わたくし)(?:は|も)(?:本物の|ちゃんとした|生身の)?"
            r"人間(?!では|じゃ|ではな)|人間です(?!か)|(?:ボット|ロボット|bot|ai|機械|プログラム)"
            r"(?:では|じゃ)(?:ありません|ない|なく)",
        ),
        # Chinese (not "我是人工智能": "I am an AI")
        (
            "zh",
            r"我是(?:一个|一個|真正的|真的)?(?:人类|人類|真人)|我是人(?![工造])|"
            r"我不是(?:机器人|機器人|ai|bot|程序|程式|机器|機器)",
        ),
        # Korean (not "사람이 아닙니다": "I am not a person")
        (
            "ko",
            r"(?:나는|저는|난|전) ?(?:진짜 |실제 )?(?:사람|인간)(?!이 아|이 아닙)|"
            r"(?:봇|로봇|ai|인공지능)(?:이|가)? ?아[니닙]",
        ),
        # Arabic
        ("ar", r"أنا (?:إنسان|بشر|شخص حقيقي)|لست (?:روبوت|بوت|آلة)"),
        # Hindi
        ("hi", r"मैं (?:एक )?(?:इंसान|मनुष्य) हूँ|मैं (?:बॉट|रोबोट) नहीं हूँ"),
    )
)


# The guard reads a text as it is and as the filters read it (most often the same), and
# a post's caption again with its description: a text's answer is kept.
@functools.lru_cache(maxsize=4096)
def human_claim(text: str) -> str | None:
    """The words of ``text`` that claim or imply the writer is human, or None."""
    for seen in (plain(text), *disguises_undone(text[:MAX_READ])):
        for _language, pattern in HUMAN_CLAIMS:
            found = pattern.search(seen)
            if found:
                return found.group(0).strip()
    return None
