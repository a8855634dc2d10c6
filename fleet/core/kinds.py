"""The kinds of action an agent can take: the one registry every other part derives from.

Persona weights and quotas, the Celery routes and task names, the CLI's choices, the
budget's degradations, the quota fall-through order, the live feed's wording and the
tables of the demo and of ``fleet status`` all read ``KINDS``. A new kind is a member of
``Action``, an entry here, and its handler (``fleet.actions``).
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field
from enum import StrEnum
from typing import Generic, Literal, TypeVar

__all__ = [
    "ACTION_NAMES",
    "ACTION_QUEUES",
    "BATCH_TASKS",
    "COSTLY",
    "FALLBACK_ORDER",
    "KINDS",
    "TARGET_KINDS",
    "Action",
    "ActionKey",
    "ActionKind",
    "Target",
    "TargetKind",
    "action_of",
    "degraded",
    "kind_of",
    "making",
    "parsed_key",
    "target_kind",
]


class Action(StrEnum):
    """What an agent can do on one tick."""

    POST = "post"
    COMMENT = "comment"
    REPLY = "reply"
    LIKE = "like"
    BROWSE = "browse"
    FOLLOW = "follow"


Target = Literal["nothing", "post", "comment", "person"]


@dataclass(frozen=True, slots=True)
class ActionKind:
    """One kind of action, as every part of the fleet sees it.

    Every field after ``action`` is a keyword: the registry reads as a table of named facts.
    """

    action: Action
    _: KW_ONLY
    # The Celery queue its task runs on: ``content`` waits on the LLM and images,
    # ``engage`` is cheap and many.
    queue: Literal["content", "engage"]
    # What it acts on: a post of someone else's, a comment on the agent's own post, or
    # nothing (it makes something new, or only reads).
    targets: Target
    # Whether it calls the LLM (and so is checked against the spend caps).
    spends_llm: bool
    # What it becomes when the LLM budget is spent (None: it spends nothing).
    degrades_to: Action | None
    # Whether a success is written to the engagement ledger (once per agent and target).
    engages: bool
    # The live feed's verb: "ux_flatflow liked 'Air quality by hour'".
    verb: str
    # What it leaves on the gallery: a post, a comment (a reply is one too), a like, or
    # nothing; reconciliation compares the ledger with the gallery by it.
    makes: Literal["post", "comment", "like", "follow", "nothing"]
    # Whether the tick sends it in batch messages of many keys (its queue's batch task):
    # cheap kinds that wait on neither the LLM nor images.
    batchable: bool = False
    # The name of the Celery task that carries it out (``fleet.<action>``): made once,
    # with the registry, not at each message sent.
    task: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "task", f"fleet.{self.action.value}")


KINDS: dict[Action, ActionKind] = {
    kind.action: kind
    for kind in (
        ActionKind(
            Action.POST,
            queue="content",
            targets="nothing",
            spends_llm=True,
            degrades_to=Action.BROWSE,
            engages=False,
            verb="posted",
            makes="post",
        ),
        ActionKind(
            Action.COMMENT,
            queue="content",
            targets="post",
            spends_llm=True,
            degrades_to=Action.LIKE,
            engages=True,
            verb="commented on",
            makes="comment",
        ),
        ActionKind(
            Action.REPLY,
            queue="content",
            targets="comment",
            spends_llm=True,
            degrades_to=Action.LIKE,
            engages=True,
            verb="replied to",
            makes="comment",
        ),
        ActionKind(
            Action.LIKE,
            queue="engage",
            targets="post",
            spends_llm=False,
            degrades_to=None,
            engages=True,
            verb="liked",
            makes="like",
            batchable=True,
        ),
        # Before browse: a follow past its quota falls to a look; only a like past its
        # quota falls to a follow, itself bounded by its own (``fleet.actions.following``).
        ActionKind(
            Action.FOLLOW,
            queue="engage",
            targets="person",
            spends_llm=False,
            degrades_to=None,
            engages=True,
            verb="followed",
            makes="follow",
        ),
        ActionKind(
            Action.BROWSE,
            queue="engage",
            targets="nothing",
            spends_llm=False,
            degrades_to=None,
            engages=False,
            verb="browsed",
            makes="nothing",
            batchable=True,
        ),
    )
}

ACTION_NAMES: tuple[str, ...] = tuple(action.value for action in KINDS)
# The order in which a decision past its daily quota falls to the next kind: the
# registry's, which puts the costly kinds first.
FALLBACK_ORDER: tuple[Action, ...] = tuple(KINDS)
ACTION_QUEUES: tuple[str, ...] = tuple(dict.fromkeys(kind.queue for kind in KINDS.values()))
# The kinds that call the LLM (those that fall to a cheaper kind over its budget), by name:
# what a tick asks the budget about (``agents.deciding``, ``Fleet.degrade``).
COSTLY: dict[str, Action] = {
    kind.action.value: kind.action for kind in KINDS.values() if kind.degrades_to is not None
}
# The batch task of each queue that has batchable kinds: ``fleet.<queue>_batch`` carries out
# many keys of those kinds in one message (a key names its kind).
BATCH_TASKS: dict[str, str] = {
    kind.queue: f"fleet.{kind.queue}_batch" for kind in KINDS.values() if kind.batchable
}


def kind_of(name: str) -> ActionKind:
    """The kind called ``name``; a ValueError naming the known kinds otherwise."""
    try:
        return KINDS[Action(name)]
    except ValueError:
        raise ValueError(
            f"unknown action {name!r}: the actions are {', '.join(ACTION_NAMES)}"
        ) from None


def making(effect: str) -> tuple[str, ...]:
    """The names of the kinds whose effect on the gallery is ``effect`` (post, comment...)."""
    return tuple(kind.action.value for kind in KINDS.values() if kind.makes == effect)


def degraded(action: Action) -> Action:
    """What ``action`` becomes over the LLM budget (itself when it spends nothing)."""
    return KINDS[action].degrades_to or action


# The idempotency key of one action, ``{agent_id}:{when}:{action}``: built and read here.
#
# ``when`` is the tick's due time in whole UTC seconds for an action the heartbeat decided,
# or ``manual-{UTC seconds}-{token}`` for one an admin asked for (``fleet agents act``), a
# key space of its own. The key names the action's row in the ledger and its effect on the
# gallery, so the same tick gives the same key on every delivery.

A = TypeVar("A", bound=Action, covariant=True)


@dataclass(frozen=True, slots=True, init=False)
class ActionKey(Generic[A]):
    """One action's key: whose, when it was due, and which action (``ActionKey[Literal[
    Action.LIKE]]``: a like's). Parsed from its string once, where a task
    takes it; the string is what the ledger, the gallery and the broker's messages hold.

    ``text``, the key serialised (what the ledger's column, the gallery's
    Idempotency-Key and the broker's messages hold; ``parse`` reads it back), is made
    once with the key (the parsed string itself when parsed), not at each use: a like
    hands it on some ten times. Equality and hashing go by it."""

    agent_id: int
    when: str
    action: A
    text: str = field(init=False, compare=False, repr=False)

    def __init__(self, agent_id: int, when: str, action: A, text: str | None = None) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "agent_id", agent_id)
        setattr_(self, "when", when)
        setattr_(self, "action", action)
        setattr_(self, "text", f"{agent_id}:{when}:{action.value}" if text is None else text)

    @staticmethod
    def tick(agent_id: int, due_at: int, action: str) -> ActionKey[Action]:
        """The key of the action a tick due at ``due_at`` (UTC seconds) decided."""
        return ActionKey(agent_id, str(due_at), Action(action))

    @staticmethod
    def manual(agent_id: int, at: int, token: str, action: str) -> ActionKey[Action]:
        """The key of an act an admin asked for at ``at`` (UTC seconds), ``token`` making
        two acts in one second distinct."""
        return ActionKey(agent_id, f"manual-{at}-{token}", Action(action))

    @staticmethod
    def parse(key: str) -> ActionKey[Action]:
        """The parts of ``key``; ValueError naming the key when it is not one (its action
        one of the registry's, ``fleet.core.kinds``)."""
        head, _, rest = key.partition(":")
        when, _, action = rest.rpartition(":")
        if not head.isdigit() or not when or action not in _ACTIONS:
            raise ValueError(
                f"{key[:80]!r} is not an action key ({{agent_id}}:{{when}}:{{action}})"
            )
        agent_id = int(head)
        # The string is the key's text when it is written as ``text`` writes it (not "07").
        return ActionKey(agent_id, when, Action(action), key if str(agent_id) == head else None)

    # The text names the three parts one to one (the agent's digits before the first
    # colon, the action after the last): equal texts, equal keys. A str's hash is kept
    # by the str; the parts' would hash a tuple and an enum's name at every look-up.
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ActionKey):
            return NotImplemented
        return self.text == other.text

    def __hash__(self) -> int:
        return hash(self.text)

    @property
    def due_at(self) -> int | None:
        """The tick's due time in UTC seconds; None for an admin's act."""
        return int(self.when) if self.when.isdigit() else None

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"ActionKey({self.text!r})"


_ACTIONS = frozenset(action.value for action in Action)


def action_of(key: str) -> Action:
    """The action a key names (its last part)."""
    return ActionKey.parse(key).action


def parsed_key(key: str) -> ActionKey[Action] | str:
    """An action's key as a delivery takes it, parsed once (``ActionKey.parse``): at a
    task's entry (``fleet.worker.tasks``) and for an approval carried out in this process
    (``fleet.service.drafts``); what follows takes it as a value. A string that is not a
    key comes back as it is, for the work to name what is wrong."""
    try:
        return ActionKey.parse(key)
    except ValueError:
        return key


# What an engagement in the ledger targeted: a post, a comment or a person. The ledger
# keeps the target typed (``engagements.target_kind`` beside ``target_id``), so that a
# comment's id is never read as a post's (the holdout's check compares a held-out
# person's posts with posts, their comments with comments, their account with people).
TargetKind = Literal["post", "comment", "person"]
TARGET_KINDS: tuple[TargetKind, ...] = ("post", "comment", "person")
_TARGETS: dict[str, TargetKind] = {
    "like": "post",
    "comment": "post",
    "reply": "comment",  # the comment answered (its post is on the activity)
    "follow": "person",
    "unfollow": "person",
    "mention": "person",
}


def target_kind(action: str) -> TargetKind:
    """The kind of target an engagement of ``action`` records (a post, unless named)."""
    return _TARGETS.get(action, "post")
