"""The demo's live terminal view (rich): clocks, actions by kind, the feed, dead letters."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from rich.console import Group
from rich.table import Table
from rich.text import Text

from fleet.core.kinds import ACTION_NAMES
from fleet.infra.events import gist
from fleet.service.overview import overview

if TYPE_CHECKING:
    from fleet.demo.run import Demo


def live_view(self: Demo) -> Group:
    """The demo's live terminal view: clocks, actions, the feed, retries and dead letters."""
    assert self.fleet is not None
    now = self.clock.now()
    header = Text(
        f"simulated {now:%a %Y-%m-%d %H:%M} UTC  x{self.options.speed:g}  "
        f"step {self.step}/{self.options.steps}  gallery {self.sandbox.url}"
        + (f"  console {self.console.url}" if self.console is not None else ""),
        style="bold",
    )
    people = Table(title="personas", title_justify="left")
    for column in ("persona", "local time", "x", "agents", "ticks"):
        people.add_column(column)
    seen = overview(self.fleet)
    per = {persona: agents for persona, (agents, _) in seen.personas.items()}
    ticks = {persona: ticks for persona, (_, ticks) in seen.personas.items()}
    letters = seen.dead_letters
    for persona in sorted(per):
        spec = self.fleet.personas.get(persona)
        local = now.astimezone(ZoneInfo(spec.schedule.timezone))
        m = self.fleet.personas.clock(persona).multiplier(now)
        people.add_row(
            persona,
            f"{local:%a %H:%M}",
            "asleep" if m == 0 else f"{m:g}",
            str(per[persona]),
            str(ticks.get(persona) or 0),
        )
    counts = Table(title="actions", title_justify="left")
    statuses = ("pending", "succeeded", "skipped", "dead")
    counts.add_column("action")
    for status in statuses:
        counts.add_column(status, justify="right")
    table = seen.by_kind()
    for action in ACTION_NAMES:
        counts.add_row(action, *(str(table.get(action, {}).get(s, 0)) for s in statuses))
    feed = Table(title="activity", title_justify="left", show_header=False)
    feed.add_column("event")
    for event in list(self.feed):
        clock = str(event.get("local_time") or "")
        said = gist({**event, "local_time": None})
        feed.add_row(f"{clock:>5}  {event['handle']:<28} {said[:110]}")
    footer = Text(f"retries {self.traffic.retries}   dead letters {letters}")
    return Group(header, people, counts, feed, footer)
