"""The live feed's hub bounds what each viewer holds (issue 31, item 17): a stalled viewer
is dropped and its backlog freed, and no event hands a viewer a megabyte string."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from fleet.console.feed import BACKLOG, DROPPED, MAX_TEXT, Hub
from fleet.service.root import Fleet


def _hub() -> Hub:
    return Hub(cast(Fleet, None))  # push() needs no Redis, hence no fleet


def _event(n: int, **more: Any) -> dict[str, Any]:
    return {"id": n, "action": "like", "status": "succeeded", **more}


def test_a_stalled_viewer_is_dropped_and_its_backlog_freed_while_a_reader_goes_on() -> None:
    hub = _hub()

    async def scenario() -> None:
        stalled, reading = hub.watch(), hub.watch()
        await anext(stalled)
        await anext(reading)
        seen = []
        for n in range(BACKLOG + 50):
            hub.push(_event(n))
            await asyncio.sleep(0)  # the hub's hand-offs run on this loop
            kind, payload = await anext(reading)
            while kind == "status":
                kind, payload = await anext(reading)
            seen.append(payload["id"])
        assert seen == list(range(BACKLOG + 50))
        held = sorted(viewer.queue.qsize() for viewer in hub._viewers)
        assert held == [0, 1], held  # the stalled one: only the word that it was dropped
        assert await anext(stalled) == ("status", DROPPED)
        try:
            await anext(stalled)
            raise AssertionError("a dropped viewer's stream goes on")
        except StopAsyncIteration:
            pass
        assert hub.viewers == 1
        await reading.aclose()

    asyncio.run(scenario())


def test_a_viewer_behind_by_a_megabyte_is_dropped_before_its_event_count_runs_out() -> None:
    hub = _hub()

    async def scenario() -> None:
        stalled = hub.watch()
        await anext(stalled)
        wide = {f"field{i}": "w" * 5_000 for i in range(90)}  # ~180 KB once clipped
        for n in range(10):
            hub.push(_event(n, detail=wide))
        await asyncio.sleep(0)
        [viewer] = hub._viewers
        assert viewer.dropped and viewer.queue.qsize() == 1
        await stalled.aclose()

    asyncio.run(scenario())


def test_an_event_s_long_strings_are_clipped_before_any_viewer_holds_them() -> None:
    hub = _hub()

    async def scenario() -> None:
        viewer = hub.watch()
        await anext(viewer)
        hub.push(_event(1, title="t" * 1_000_000, detail={"text": "x" * 1_000_000}))
        await asyncio.sleep(0)
        kind, payload = await anext(viewer)
        while kind == "status":
            kind, payload = await anext(viewer)
        assert len(payload["title"]) == MAX_TEXT and len(payload["detail"]["text"]) == MAX_TEXT
        await viewer.aclose()

    asyncio.run(scenario())
    [recent] = hub._recent
    assert len(recent["title"]) == MAX_TEXT
