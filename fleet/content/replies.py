"""The offline writer's replies: an agent answers a comment left on its own post, or goes
on with a conversation: someone answered its comment on their post.

A reply opens with the commenter's handle, thanks or answers them, and speaks of the post
as people do in a thread under it: "this one", "this piece", or its title when the title
is a short name (three plain words at most). A long title is not quoted back in full.
Every template renders as a whole sentence whatever the title, the handle or the
interest filled in.
"""

from __future__ import annotations

import random
import re

from fleet.content.port import CommentSeen, PostSeen
from fleet.core.persona import Persona

THANKS = (
    "@{handle} thank you, glad {title} worked for you.",
    "@{handle} thanks for noticing, {title} took a few tries.",
    "@{handle} thank you, your comment means a lot.",
    "@{handle} thank you! I had fun making {title}.",
    "@{handle} appreciate it, {title} is one of my favourites too.",
    "@{handle} oh, that's kind of you.",
    "@{handle} you made my evening with this.",
    "@{handle} so happy it landed with you.",
    "@{handle} ha, I nearly scrapped {title}, so thank you.",
    "@{handle} means a lot coming from you.",
    "@{handle} cheers! I was unsure about {title} until the very end.",
    "@{handle} thanks, I kept fiddling with {title} for days.",
)
ANSWERS = (
    "@{handle} good question: it started from my love of {interest}.",
    "@{handle} mostly patience, and a lot of {interest} references.",
    "@{handle} thanks for asking! It grew out of a week of {interest}.",
    "@{handle} honestly? Trial and error, and too much {interest}.",
    "@{handle} about an evening, plus a morning of fixing what I broke.",
    "@{handle} I sketched it rough first, then went back in with {interest} in mind.",
    "@{handle} short answer: {interest}. Long answer: many late nights.",
    "@{handle} happy to share! I can post the steps if people want them.",
)
# A second sentence now and then: what the agent is up to next.
FOLLOW_UPS = (
    "",
    "",
    " More in this series soon.",
    " Your comment made my day.",
    " I will try a variation next.",
    " Next one is already half done.",
    " Still learning, so your note helps.",
    " Thinking of doing a bigger version.",
    " Tell me if you try something similar!",
    " Saving this comment for the bad days.",
)


# Going on with a conversation under someone else's post, after they answered the agent.
GOING_ON = (
    "@{handle} that makes sense, thanks for explaining.",
    "@{handle} ha, I know that feeling well.",
    "@{handle} good to know! I might borrow that for my {interest}.",
    "@{handle} love that. Looking forward to the next one.",
    "@{handle} oh nice, I did not expect that answer.",
    "@{handle} that explains the look, it really works.",
    "@{handle} fair enough, the patience shows.",
    "@{handle} thanks! I'll keep an eye out for the follow-up.",
    "@{handle} interesting, I usually go the other way with {interest}.",
    "@{handle} same here, {interest} eats my evenings too.",
)
GOING_ON_QUESTIONS = (
    "@{handle} would you share the steps sometime?",
    "@{handle} did you try it another way first?",
    "@{handle} how long did the whole thing take?",
)

# A handle said back only when it is a plain one: letters, digits, "_", "." or "-".
PLAIN_HANDLE = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,38}[A-Za-z0-9_])?")


def reply_text(
    persona: Persona,
    post: PostSeen,
    comment: CommentSeen,
    rng: random.Random,
    *,
    own_post: bool = True,
) -> str:
    """A reply to ``comment`` on the agent's own ``post`` (or, not ``own_post``, to an
    answer the post's author gave to the agent's comment), in a few plain sentences. It
    opens with the commenter's handle only if that is a plain handle (a name with a space
    or a line break in it is not said back), never with a bare "@"."""
    asked = comment.text[:2000].rstrip().endswith("?")
    if own_post:
        template = rng.choice(ANSWERS if asked else THANKS)
    else:
        template = rng.choice(GOING_ON if asked or rng.random() < 0.8 else GOING_ON_QUESTIONS)
    title = _named(post.title, rng)
    if PLAIN_HANDLE.fullmatch(comment.author) is None:
        rest = template.removeprefix("@{handle} ")
        template = rest[:1].upper() + rest[1:]
    text = template.format(
        handle=comment.author, title=title, interest=rng.choice(persona.interests)
    )
    return text + (rng.choice(FOLLOW_UPS) if own_post else "")


# How a reply under a post speaks of it when it does not name it.
THIS = ("this one", "this piece", "this", "it")
SHORT_TITLE = re.compile(r"[A-Za-z][A-Za-z'-]*(?: [A-Za-z][A-Za-z'-]*){0,2}")


def _named(title: str, rng: random.Random) -> str:
    """The post as the reply names it: a short plain title quoted, else "this one"."""
    plain = title.strip().rstrip(".!?")
    if SHORT_TITLE.fullmatch(plain) and len(plain) <= 30 and rng.random() < 0.5:
        return f"'{plain}'"
    return rng.choice(THIS)
