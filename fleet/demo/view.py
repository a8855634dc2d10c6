"""The demo's live terminal view (rich): clocks, actions by kind, the feed, dead letters.

The view fits the terminal it is drawn on: on a small one (80x24) it drops the
personas' clocks and narrows columns, never the feed. Through a pipe there is no live
view: ``progress_line`` gives a plain line a step.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from rich.console import Group
from rich.table import Table
from rich.text import Text

from fleet.core.kinds import ACTION_NAMES
from fleet.core.statuses import ACTIVITY_STATUSES
from fleet.core.terminal import clean
from fleet.infra.events import gist
from fleet.service.overview import overview

if TYPE_CHECKING:
    from fleet.demo.run import Demo

STATUSES = ACTIVITY_STATUSES
# The feed keeps at least this many lines; the rest of the screen is the clocks'.
FEED_LINES = 6


def live_view(self: Demo, *, width: int = 120, height: int = 50) -> Group:
    """The demo's live terminal view for a terminal of ``width`` x ``height``."""
    assert self.fleet is not None
    now = self.clock.now()
    seen = overview(self.fleet)
    header = Text(
        f"simulated {now:%a %H:%M} UTC  x{self.options.speed:g}  "
        f"step {self.step}/{self.options.steps}  gallery {self.gallery_url}"
        f"  about the agents {self.about_url}"
        + (f"  console {self.console.url}" if self.console is not None else ""),
        style="bold",
        overflow="ellipsis",
        no_wrap=True,
    )
    counts = Table(title="actions", title_justify="left", padding=(0, 1))
    counts.add_column("action")
    for status in STATUSES:
        counts.add_column(status, justify="right")
    table = seen.by_kind()
    for action in ACTION_NAMES:
        counts.add_row(action, *(str(table.get(action, {}).get(s, 0)) for s in STATUSES))
    footer = Text(
        f"retries {self.traffic.retries}   dead letters {seen.dead_letters}"
        + (f"   skipped {skipped_text(self.skipped)}" if self.skipped else ""),
        overflow="ellipsis",
        no_wrap=True,
    )
    # The platform's lines under the header (on Takahē: an agent's page, the question).
    notes = [Text(clean(line), overflow="ellipsis", no_wrap=True) for line in self.notes()]
    # Lines used besides the feed: header, notes, the counts (title, rules, header, rows),
    # footer.
    fixed = 1 + len(notes) + (len(ACTION_NAMES) + 4) + 1
    parts: list[Any] = [header, *notes]
    personas = _personas(self, now, seen.personas)
    personas_lines = personas.row_count + 4
    if height - fixed - personas_lines - 1 >= FEED_LINES:
        parts.append(personas)
        fixed += personas_lines
    parts.append(counts)
    room = max(FEED_LINES, height - fixed - 2)
    parts.append(_feed(list(self.feed)[-room:], width))
    parts.append(footer)
    return Group(*parts)


def _personas(self: Demo, now: datetime, by: dict[str, tuple[int, int]]) -> Table:
    assert self.fleet is not None
    people = Table(title="personas", title_justify="left", padding=(0, 1))
    for column in ("persona", "local time", "x", "agents", "ticks"):
        people.add_column(column)
    for persona in sorted(by):
        agents, ticks = by[persona]
        spec = self.fleet.personas.get(persona)
        local = now.astimezone(ZoneInfo(spec.schedule.timezone))
        m = self.fleet.personas.clock(persona).multiplier(now)
        people.add_row(
            persona,
            f"{local:%a %H:%M}",
            "asleep" if m == 0 else f"{m:g}",
            str(agents),
            str(ticks or 0),
        )
    return people


def _feed(events: list[dict[str, Any]], width: int) -> Table:
    """The newest events, one line each: the simulated UTC time (it only moves
    forward), the handle, what happened and when that was in the agent's own zone."""
    feed = Table(title="activity (times UTC)", title_justify="left", show_header=False, box=None)
    feed.add_column("at", no_wrap=True)
    feed.add_column("event", no_wrap=True, overflow="ellipsis", max_width=max(20, width - 8))
    for event in events:
        at = str(event.get("at") or "")[11:16]
        # Text, cleaned: a title's markup or terminal escapes print as inert text.
        feed.add_row(at, Text(clean(f"{event.get('handle', '?')} {gist(event)}")))
    return feed


def skipped_text(counts: dict[str, int]) -> str:
    """The skips by reason, most first: "12 (like: nothing to like 9, reply: ... 3)"."""
    total = sum(counts.values())
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return f"{total} (" + ", ".join(f"{reason} {n}" for reason, n in ranked) + ")"


def progress_line(self: Demo) -> str:
    """A plain line for a pipe: where the run is and what it has done so far."""
    assert self.fleet is not None
    seen = overview(self.fleet)
    statuses: dict[str, int] = {}
    for by_status in seen.by_kind().values():
        for status, n in by_status.items():
            statuses[status] = statuses.get(status, 0) + n
    done = ", ".join(f"{s} {statuses[s]}" for s in STATUSES if statuses.get(s))
    line = (
        f"step {self.step}/{self.options.steps}  simulated {self.clock.now():%a %H:%M} UTC  "
        f"actions: {done or 'none yet'}  provenance: signed, self-signed demo certificate"
    )
    if self.skipped:
        ranked = sorted(self.skipped.items(), key=lambda item: (-item[1], item[0]))
        line += "  (skipped: " + ", ".join(f"{reason} {n}" for reason, n in ranked) + ")"
    return line
