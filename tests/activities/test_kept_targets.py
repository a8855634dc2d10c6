"""Which actions of an agent hold a post (``fleet.activities.kept_targets``): every one but
a skipped one. A dead like or comment may have reached the gallery (its answer lost), and
reconciliation may find it there: the agent's next one goes to another post."""

from __future__ import annotations

import pytest

from fleet import activities
from fleet.service.root import Fleet
from tests.activities.test_activities import NOW, _activity, _first_open, _keep, _second_like


@pytest.mark.parametrize(("ended", "held"), [("dead", True), ("skipped", False)])
def test_a_dead_action_holds_its_post_and_a_skipped_one_does_not(
    fleet: Fleet, ended: str, held: bool
) -> None:
    agent_id, first, _ = _activity(fleet)
    assert _keep(fleet, first, agent_id, _first_open).post_id == "p1"
    if ended == "dead":
        letter = activities.bury(
            fleet.sessions,
            first,
            task="fleet.like",
            arguments={},
            error_type="X",
            error="x",
            now=NOW,
        )
        assert letter is not None
    else:
        assert activities.finish(fleet.sessions, first, "skipped", now=NOW, reason="test")
    second = _second_like(fleet, agent_id)
    seen: list[set[str]] = []

    def looking(done: set[str], recent: dict[str, int]) -> str | None:
        seen.append(set(done))
        return None

    # The choice is told the post is taken...
    assert _keep(fleet, second, agent_id, looking).post_id is None
    assert seen == [{"p1"} if held else set()]
    # ...and a choice of it all the same (a read from before) is refused as it is kept.
    insisting = _keep(fleet, second, agent_id, lambda done, recent: "p1")
    assert insisting.post_id == (None if held else "p1")
