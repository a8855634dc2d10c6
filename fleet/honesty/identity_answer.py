"""The truthful answer to a person who asks what the agent is (pure).

Written by the offline writer, and the fall-back of every other: an answer an LLM wrote
that does not tell the truth (``truthful_answer.discloses``) gives way to this one. It
opens with the asker's handle (when plain), says in a sentence or two that the account
is automated and who runs it (the operator, ``FLEET_DISCLOSURE__OPERATOR_NAME``), points
to the profile for the link (a comment carries no link), and now and then ends in the
agent's own way: its opener, its exclamation marks, its emoji. It answers in the
language the question was asked in when the keyword check knew it (``identity_question``),
else in English. The question itself is never quoted back.
"""

from __future__ import annotations

import random

from fleet.content.offline.replies import PLAIN_HANDLE
from fleet.content.port import CommentSeen
from fleet.core.identity import Identity
from fleet.core.persona import Persona

# Where the operator's name goes: {operator}; what the agent makes: {interest}.
ANSWERS: dict[str, tuple[str, ...]] = {
    "en": (
        "Fair question: no, I'm not a person. This is an automated account run by "
        "{operator}; software writes my posts and comments. The link is on my profile.",
        "Good that you ask. I'm an automated account, run by {operator}: a program makes "
        "these images and writes these words. More on my profile.",
        "Straight answer: this account is automated. {operator} runs it, and no person "
        "types these comments. My profile links to them.",
        "No person here, I'm afraid: I'm an automated account that {operator} runs. Happy "
        "to keep talking {interest} all the same. Details on my profile.",
    ),
    "es": (
        "Buena pregunta: no soy una persona. Esta es una cuenta automatizada de "
        "{operator}; un programa escribe lo que publico. El enlace está en mi perfil.",
    ),
    "fr": (
        "Bonne question : je ne suis pas une personne. C'est un compte automatisé géré par "
        "{operator} ; un programme écrit ce que je publie. Le lien est sur mon profil.",
    ),
    "de": (
        "Gute Frage: Ich bin kein Mensch. Das ist ein automatisiertes Konto von {operator}; "
        "ein Programm schreibt meine Beiträge. Der Link steht in meinem Profil.",
    ),
    "pt": (
        "Boa pergunta: não sou uma pessoa. Esta é uma conta automatizada de {operator}; um "
        "programa escreve o que publico. O link está no meu perfil.",
    ),
    "it": (
        "Bella domanda: non sono una persona. Questo è un account automatizzato gestito da "
        "{operator}; un programma scrive i miei post. Il link è nel mio profilo.",
    ),
}
# When the settings name no operator (a writer used outside a fleet, in a test).
NO_OPERATOR = "the operator named on my profile"


def truthful_answer(
    persona: Persona,
    comment: CommentSeen,
    operator: str,
    rng: random.Random,
    *,
    me: Identity | None = None,
    language: str | None = None,
) -> str:
    """The agent's truthful answer to ``comment`` (which asked what it is), naming
    ``operator``: in ``language`` when known (en, es, fr, de, pt, it), in its own voice."""
    templates = ANSWERS.get(language or "en", ANSWERS["en"])
    text = rng.choice(templates).format(
        operator=operator or NO_OPERATOR, interest=rng.choice(persona.interests)
    )
    if me is not None and (language or "en") == "en":
        if me.opener and not me.opener.endswith(":") and rng.random() < 0.5:
            text = f"{me.opener} {text[:1].lower()}{text[1:]}"
        if me.exclaims:
            text = text.replace("Fair question:", "Fair question!").replace(
                "Good that you ask.", "Good that you ask!"
            )
        if me.emoji and rng.random() < me.emoji_rate:
            text = f"{text} {rng.choice(me.emoji)}"
    if PLAIN_HANDLE.fullmatch(comment.author):
        text = f"@{comment.author} {text}"
    return text
