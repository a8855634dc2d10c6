"""The agents' memories as the no-echo guard reads them (fleet/agents/memories.py)."""

from __future__ import annotations

from datetime import timedelta

from fleet import agents
from fleet.core.memory import MemoryKind
from fleet.service.root import Fleet
from tests.test_memories import NOW, WordsEmbedder, _activity, _agent, _memory


def test_a_reply_is_weighed_against_the_replies_said_not_every_comment(fleet: Fleet) -> None:
    """Replies are compared with replies (those that open with the @handle they answer):
    the fleet's many newer comments would push its older replies out of the scan."""
    (agent_id,) = _agent(fleet, "ux_ui_designer")
    embedder = WordsEmbedder()
    rows = []
    for n, text in enumerate(["@maya thanks, the light", "Lovely tiles!", "@tom roughly two days"]):
        activity, _ = _activity(fleet, agent_id, "reply", n)
        memory = _memory(
            text, NOW - timedelta(hours=n), MemoryKind.SAID, vector=embedder.embed([text])[0]
        )
        rows.append(agents.Remembered(agent_id, activity, memory, None, embedder.model))
    agents.remember(fleet.sessions, rows, keep=100, now=NOW, half_life_days=7)

    def scan(*, replies: bool, limit: int) -> list[str]:
        found = agents.published_vectors(
            fleet.sessions,
            persona=None,
            since=NOW - timedelta(days=14),
            model=embedder.model,
            dimensions=32,
            limit=limit,
            kinds=(MemoryKind.SAID,),
            replies=replies,
        )
        return [text for text, _ in found]

    assert scan(replies=True, limit=2) == ["@maya thanks, the light", "@tom roughly two days"]
    assert scan(replies=False, limit=2) == ["@maya thanks, the light", "Lovely tiles!"]
