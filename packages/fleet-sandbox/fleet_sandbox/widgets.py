"""Interface widgets for the sandbox's mockups: text bars, buttons, fields and toggles in
one theme (background, surface, text, muted text, lines, accent, second accent) and one
unit of size.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import ImageDraw

from fleet_sandbox.canvas import Box
from fleet_sandbox.palettes import RGB


@dataclass
class Kit:
    """Widgets in one theme."""

    d: ImageDraw.ImageDraw
    bg: RGB
    surface: RGB
    text: RGB
    muted: RGB
    line: RGB
    accent: RGB
    second: RGB
    unit: float

    def bar(self, x: float, y: float, w: float, *, big: bool = False, muted: bool = False) -> None:
        h = self.unit * (1.1 if big else 0.55)
        self.d.rounded_rectangle(
            (x, y, x + w, y + h), h / 2, fill=self.muted if muted else self.text
        )

    def button(self, box: Box | tuple[float, ...], *, primary: bool = True) -> None:
        self.d.rounded_rectangle(
            box,
            self.unit * 0.6,
            fill=self.accent if primary else self.surface,
            outline=None if primary else self.line,
            width=2,
        )
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        w = (box[2] - box[0]) * 0.4
        colour = (250, 250, 250) if primary else self.text
        self.d.rounded_rectangle(
            (cx - w / 2, cy - self.unit * 0.25, cx + w / 2, cy + self.unit * 0.25),
            self.unit * 0.25,
            fill=colour,
        )

    def field(self, x: float, y: float, w: float, *, error: bool = False) -> float:
        self.bar(x, y, w * 0.3, muted=True)
        top = y + self.unit
        self.d.rounded_rectangle(
            (x, top, x + w, top + self.unit * 2.2),
            self.unit * 0.4,
            fill=self.surface,
            outline=self.second if error else self.line,
            width=3 if error else 2,
        )
        self.bar(x + self.unit * 0.7, top + self.unit * 0.85, w * 0.45, muted=True)
        if error:
            self.d.rounded_rectangle(
                (x, top + self.unit * 2.6, x + w * 0.5, top + self.unit * 3.0),
                self.unit * 0.2,
                fill=self.second,
            )
        return top + self.unit * (3.6 if error else 3.0)

    def toggle(self, x: float, y: float, on: bool) -> None:
        u = self.unit
        self.d.rounded_rectangle(
            (x, y, x + u * 2.2, y + u * 1.2), u * 0.6, fill=self.accent if on else self.line
        )
        knob = x + (u * 1.1 if on else u * 0.1)
        self.d.ellipse((knob, y + u * 0.1, knob + u, y + u * 1.1), fill=(250, 250, 250))
