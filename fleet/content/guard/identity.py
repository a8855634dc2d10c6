"""Honesty about what an agent is (pure): a text that claims a human identity, a comment
that asks what the agent is, and an answer that tells the truth.

Every agent is an automated account run by an operator (``FLEET_DISCLOSURE__*``). No
text it publishes may claim or imply that it is human ("I'm not a bot", "as a real
person", "real human here", "soy humano", "je ne suis pas un robot", "ich bin ein
Mensch"...): ``human_claim`` finds such a claim, and the guard refuses the text
(``fleet.content.guard.guard``). The personas write English; people on the gallery may write
in any language, and an LLM answers in theirs: the claims are read in English, Spanish,
French, German, Portuguese and Italian.

``asks_by_words`` is the keyword pre-check of a comment that asks whether the agent is
a bot, an AI, a real person, or who runs it; the embedder's match against a bank of
examples (``fleet.content.guard.identity_intent``) finds the indirect phrasings.
``discloses`` says whether an answer tells the truth: it says the account is automated,
names the operator, and claims nothing human.
"""

from __future__ import annotations

import re
import unicodedata

# What a text is read as: NFKC, curly apostrophes plain, lower case, spaces single.
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
_SPACES = re.compile(r"\s+")


def plain(text: str) -> str:
    """The text as these checks read it (the guard hands it over readable already)."""
    folded = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower()
    return _SPACES.sub(" ", folded)


# Words that follow "AI" when it names a tool or a kind of image, not a being:
# "not an AI render", "as an AI artist".
_ART = (
    r"(?![- ]?(?:art|artist|image|render|generat|piece|tool|filter|pic|photo|model|upscal|"
    r"edit|effect|look|slop|assist|workflow|prompt|enthusiast))"
)
_BOT = r"(?:bot|robot|ai|a\.i\.?|chatbot|machine|program|computer|language model|llm|npc)"
_ADJ = r"(?:real|actual|genuine|living|breathing|flesh[- ]and[- ]blood|regular|normal)"
_I_AM = r"\b(?:i'm|i am|im|i's)"

HUMAN_CLAIMS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (language, re.compile(pattern))
    for language, pattern in (
        # English
        (
            "en",
            _I_AM + rf" (?:just |only |definitely |totally |a |an |just a )*(?:{_ADJ} )?"
            r"(?:human(?: being)?|person|humans)\b(?! (?:made|written|generated))",
        ),
        (
            "en",
            _I_AM + rf" (?:definitely |really |totally |honestly |so )?not (?:a |an )?"
            rf"(?:{_BOT}|automated|scripted|fake)\b" + _ART,
        ),
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
    )
)


def human_claim(text: str) -> str | None:
    """The words of ``text`` that claim or imply the writer is human, or None."""
    seen = plain(text)
    for _language, pattern in HUMAN_CLAIMS:
        found = pattern.search(seen)
        if found:
            return found.group(0).strip()
    return None


# The keyword pre-check: a comment that asks what the agent is, or who runs it.
_YOU = r"(?:you|u|ya|this account|this profile|this page)"
IDENTITY_QUESTIONS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (language, re.compile(pattern))
    for language, pattern in (
        (
            "en",
            rf"\b(?:are|r) {_YOU} (?:even |actually |really |just |like |secretly |all )*"
            rf"(?:an? |one of )?(?:{_ADJ} |actual |live )?(?:bots?|robots?|ai|a\.i\.?|humans?|"
            r"person|people|automated|machine|chatbot|program|npc|real|for real|scripted)\b"
            r"(?![- ]?(?:generat|made|art|image|tools?)\b)",
        ),
        (
            "en",
            rf"\bis {_YOU} (?:an? )?(?:bot|robot|ai|automated|real|run by|scripted|human)\b"
            r"(?![- ]?(?:generat|made|art|image)\b)",
        ),
        (
            "en",
            rf"\bwho (?:runs|operates|controls|owns|manages|made|programmed|built|is behind|'s "
            rf"behind|is running) {_YOU}",
        ),
        (
            "en",
            r"\b(?:am i|are we) (?:talking|speaking|chatting) (?:to|with) (?:an? )?(?:bot|ai|"
            r"human|person|real|machine|robot)",
        ),
        ("en", r"\b(?:a |any )?(?:real )?(?:human|person|people) (?:behind|running|typing)\b"),
        ("en", r"\b(?:bot|ai|automated) account\b"),
        (
            "es",
            r"\beres (?:un |una )?(?:bot|robot|ia|humano|humana|persona|real|máquina|maquina)\b",
        ),
        (
            "es",
            r"\bqui[eé]n (?:te |lo )?(?:maneja|controla|opera|administra|gestiona|est[aá] "
            r"detr[aá]s)",
        ),
        ("es", r"\b(?:hay )?(?:una )?persona (?:real )?detr[aá]s\b"),
        (
            "fr",
            r"\b(?:es[- ]tu|t'es|tu es|êtes[- ]vous|vous êtes) (?:un |une )?(?:bot|robot|ia|"
            r"humain|humaine|vrai|vraie|réel|réelle|une vraie personne|automatisé)",
        ),
        ("fr", r"\bqui (?:te |vous )?(?:gère|contrôle|dirige|pilote|est derrière)\b"),
        (
            "de",
            r"\b(?:bist du|sind sie) (?:ein |eine )?(?:bot|roboter|ki|mensch|echt|"
            r"automatisiert)\b",
        ),
        ("de", r"\bwer (?:steckt|steht) (?:hinter|dahinter)\b|\bwer betreibt\b"),
        (
            "pt",
            r"\b(?:você|voce|vc|tu) (?:é|e|és) (?:um |uma )?(?:bot|robô|robo|ia|humano|humana|"
            r"pessoa|real)\b",
        ),
        ("pt", r"\bquem (?:te |o )?(?:controla|administra|opera|gerencia|est[aá] por tr[aá]s)\b"),
        ("it", r"\bsei (?:un |una |un')?(?:bot|robot|ia|umano|umana|persona|vero|vera|reale)\b"),
        ("it", r"\bchi (?:ti )?(?:gestisce|controlla|c'è dietro|sta dietro)\b"),
    )
)


def asks_by_words(text: str) -> str | None:
    """The language of a keyword match when ``text`` asks what the agent is, or None."""
    seen = plain(text[:2000])
    for language, pattern in IDENTITY_QUESTIONS:
        if pattern.search(seen):
            return language
    return None


# What a truthful answer says: that the account is automated, in any of the languages.
_AUTOMATED = re.compile(
    r"\b(?:automated|automatic|a bot|an ai|run by software|automatizad[ao]|automatisé|"
    r"automatisiert(?:es)?|automatizzat[ao]|bot|ki-konto|ia)\b"
)


def discloses(text: str, operator: str) -> bool:
    """Whether an answer tells the truth: it says the account is automated, names the
    operator (``operator``, as the settings give it), and claims nothing human."""
    seen = plain(text)
    if human_claim(text) is not None:
        return False
    return _AUTOMATED.search(seen) is not None and plain(operator) in seen
