"""Interface design: the screen or component the subject names, in a device, on a board,
or on a design-system sheet.

The subject picks the screen (checkout, settings, empty state, pricing table, date
picker, login, a toast, a modal...); "dark mode" darkens it, "mobile" or "320px" puts it
in a phone, "error states" adds red-free error marks in the accent, "high contrast"
strengthens the ink. Copy is drawn as bars: the prompts ask for no text.
"""

from __future__ import annotations

import random

from PIL import Image, ImageDraw

from fleet_sandbox.briefs import Brief, first_match
from fleet_sandbox.canvas import Box, gradient
from fleet_sandbox.palettes import RGB, Palette, mix, shade, tint
from fleet_sandbox.widgets import Kit

SCENES: dict[str, str] = {
    "checkout": "checkout", "cart": "checkout", "settings": "settings", "empty state": "empty",
    "button": "buttons", "pricing": "pricing", "onboarding": "onboarding",
    "dashboard": "dashboard", "search": "search", "date picker": "calendar",
    "calendar": "calendar", "toast": "toast", "notification": "toast", "profile": "profile",
    "tab bar": "tabbar", "type scale": "type", "typography": "type", "colour token": "tokens",
    "color token": "tokens", "token": "tokens", "form": "form", "modal": "modal",
    "dialog": "modal", "uploader": "upload", "upload": "upload", "navigation rail": "rail",
    "navigation": "rail", "login": "login", "sign in": "login",
}  # fmt: skip


def scene_of(subject: str) -> str | None:
    """The screen or component a subject names."""
    return first_match(subject, SCENES)


def _screen(k: Kit, box: Box, scene: str, rng: random.Random, b: Brief) -> None:
    x0, y0, x1, y1 = box
    w, h, u = x1 - x0, y1 - y0, k.unit
    m = u * 1.5
    k.d.rectangle(box, fill=k.bg)
    x, y, inner = x0 + m, y0 + m, w - 2 * m
    error = b.has("error", "errors", "inline errors")
    if scene not in ("empty", "toast", "modal", "login"):
        k.bar(x, y, inner * rng.uniform(0.35, 0.6), big=True)
        y += u * 2.6
    if scene in ("form", "checkout", "login", "settings", "profile"):
        if scene == "profile":
            r = u * 2.5
            k.d.ellipse((x0 + w / 2 - r, y, x0 + w / 2 + r, y + 2 * r), fill=k.second)
            y += 2 * r + u
        if scene == "login":
            k.d.rounded_rectangle(
                (x0 + w / 2 - u * 1.5, y0 + h * 0.12, x0 + w / 2 + u * 1.5, y0 + h * 0.12 + u * 3),
                u * 0.8,
                fill=k.accent,
            )
            y = y0 + h * 0.12 + u * 5
        for j in range(rng.randint(2, 4)):
            if scene == "settings":
                k.bar(x, y + u * 0.3, inner * rng.uniform(0.3, 0.55))
                k.toggle(x1 - m - u * 2.2, y, rng.random() < 0.5)
                k.d.line((x, y + u * 2, x1 - m, y + u * 2), fill=k.line, width=2)
                y += u * 2.8
            else:
                y = k.field(x, y, inner, error=error and j == 1)
        if scene == "checkout":
            k.d.rounded_rectangle(
                (x, y, x1 - m, y + u * 4), u * 0.5, fill=k.surface, outline=k.line, width=2
            )
            k.bar(x + u, y + u, inner * 0.3)
            k.bar(x1 - m - inner * 0.25, y + u, inner * 0.15, big=True)
            y += u * 5
        k.button((x, min(y, y1 - m - u * 2.6), x1 - m, min(y + u * 2.6, y1 - m)))
    elif scene in ("empty", "upload"):
        cx, cy, r = x0 + w / 2, y0 + h * 0.4, min(w, h) * 0.14
        if scene == "upload":
            k.d.rounded_rectangle(
                (x, y0 + h * 0.2, x1 - m, y0 + h * 0.6), u, outline=k.accent, width=3
            )
            k.d.polygon([(cx, cy - r * 0.6), (cx - r * 0.5, cy), (cx + r * 0.5, cy)], fill=k.accent)
            k.d.rectangle((cx - r * 0.15, cy, cx + r * 0.15, cy + r * 0.5), fill=k.accent)
        else:
            k.d.ellipse(
                (cx - r, cy - r, cx + r, cy + r),
                fill=tint(k.accent, 0.75) if k.bg[0] > 128 else shade(k.accent, 0.5),
            )
            k.d.rounded_rectangle(
                (cx - r * 0.5, cy - r * 0.35, cx + r * 0.5, cy + r * 0.35), r * 0.1, fill=k.accent
            )
        k.bar(cx - inner * 0.3, y0 + h * 0.66, inner * 0.6, big=True)
        k.bar(cx - inner * 0.35, y0 + h * 0.72, inner * 0.7, muted=True)
        k.button((cx - inner * 0.25, y0 + h * 0.78, cx + inner * 0.25, y0 + h * 0.78 + u * 2.6))
    elif scene == "calendar":
        side = min(inner, y1 - y - m)
        k.d.rounded_rectangle(
            (x, y, x + side, y + side), u, fill=k.surface, outline=k.line, width=2
        )
        cell = (side - 2 * u) / 7.5
        chosen = rng.randrange(7, 35)
        for c in range(35):
            cx, cy = x + u + (c % 7 + 0.5) * cell, y + u * 0.5 + (c // 7 + 1.5) * cell
            if c == chosen:
                k.d.ellipse(
                    (cx - cell * 0.42, cy - cell * 0.42, cx + cell * 0.42, cy + cell * 0.42),
                    fill=k.accent,
                )
            k.d.rounded_rectangle(
                (cx - cell * 0.15, cy - u * 0.2, cx + cell * 0.15, cy + u * 0.2),
                u * 0.2,
                fill=(250, 250, 250) if c == chosen else k.muted,
            )
    elif scene == "pricing":
        cols = 3 if w > h * 0.8 else 2
        cw = (inner - (cols - 1) * u) / cols
        for c in range(cols):
            cx = x + c * (cw + u)
            featured = c == cols // 2
            k.d.rounded_rectangle(
                (cx, y, cx + cw, y1 - m),
                u,
                fill=k.accent if featured else k.surface,
                outline=k.line,
                width=2,
            )
            k.bar(cx + u, y + u, cw * 0.4, big=True)
            for j in range(4):
                k.d.ellipse(
                    (cx + u, y + u * (4 + j * 1.6), cx + u * 1.6, y + u * (4.6 + j * 1.6)),
                    fill=k.second,
                )
                k.bar(cx + u * 2.2, y + u * (4.05 + j * 1.6), cw * 0.5, muted=not featured)
            k.button((cx + u, y1 - m - u * 3.6, cx + cw - u, y1 - m - u), primary=not featured)
    elif scene in ("toast", "modal"):
        for j in range(6):
            k.bar(x, y + j * u * 2, inner * rng.uniform(0.4, 0.9), muted=True)
        if scene == "modal":
            k.d.rectangle(box, fill=mix(k.bg, (0, 0, 0), 0.45))
            mb = (x0 + w * 0.1, y0 + h * 0.3, x1 - w * 0.1, y0 + h * 0.68)
            k.d.rounded_rectangle(mb, u, fill=k.surface)
            k.bar(mb[0] + u, mb[1] + u * 1.2, (mb[2] - mb[0]) * 0.5, big=True)
            k.bar(mb[0] + u, mb[1] + u * 3.5, (mb[2] - mb[0]) * 0.8, muted=True)
            k.button((mb[2] - u * 9, mb[3] - u * 3.6, mb[2] - u, mb[3] - u))
        else:
            tb = (x, y1 - m - u * 4, x1 - m, y1 - m)
            k.d.rounded_rectangle(tb, u * 0.8, fill=k.text)
            k.d.ellipse(
                (tb[0] + u, tb[1] + u * 1.2, tb[0] + u * 2.6, tb[1] + u * 2.8), fill=k.accent
            )
            k.d.rounded_rectangle(
                (tb[0] + u * 3.5, tb[1] + u * 1.7, tb[0] + inner * 0.6, tb[1] + u * 2.3),
                u * 0.3,
                fill=k.bg,
            )
    else:  # a list-and-cards screen: dashboard, search, buttons, tab bar, rail, type, tokens
        if scene == "search":
            k.d.rounded_rectangle(
                (x, y, x1 - m, y + u * 2.6), u * 1.3, fill=k.surface, outline=k.accent, width=3
            )
            k.d.ellipse(
                (x + u * 0.8, y + u * 0.7, x + u * 2, y + u * 1.9), outline=k.muted, width=3
            )
            y += u * 4
        if scene == "rail":
            k.d.rectangle((x0, y0, x0 + u * 4, y1), fill=k.surface)
            for j in range(5):
                k.d.rounded_rectangle(
                    (x0 + u, y0 + u * (3 + j * 3.2), x0 + u * 3, y0 + u * (5 + j * 3.2)),
                    u * 0.5,
                    fill=k.accent if j == 1 else k.line,
                )
            x, inner = x0 + u * 5.5, inner - u * 4
        rows = rng.randint(3, 5)
        for j in range(rows):
            if y > y1 - u * 8:
                break
            if scene == "dashboard" and j == 0:
                k.d.rounded_rectangle((x, y, x1 - m, y + u * 7), u * 0.6, fill=k.surface)
                pts = [
                    (x + u + t * (inner - 2 * u) / 9, y + u * (5.5 - 4 * rng.random()))
                    for t in range(10)
                ]
                k.d.line(pts, fill=k.accent, width=max(3, int(u * 0.25)))
                y += u * 8
                continue
            k.d.rounded_rectangle((x, y, x1 - m, y + u * 3.4), u * 0.6, fill=k.surface)
            k.d.ellipse(
                (x + u * 0.7, y + u * 0.7, x + u * 2.7, y + u * 2.7),
                fill=(k.accent, k.second, k.muted)[j % 3],
            )
            k.bar(x + u * 3.5, y + u * 0.9, inner * rng.uniform(0.3, 0.5))
            k.bar(x + u * 3.5, y + u * 2.0, inner * rng.uniform(0.2, 0.4), muted=True)
            y += u * 4.2
    if scene == "tabbar" or (w < h and rng.random() < 0.5 and scene not in ("modal", "rail")):
        k.d.rectangle((x0, y1 - u * 3.4, x1, y1), fill=k.surface)
        for j in range(4):
            cx = x0 + w * (j + 0.5) / 4
            k.d.rounded_rectangle(
                (cx - u * 0.8, y1 - u * 2.6, cx + u * 0.8, y1 - u * 1.0),
                u * 0.4,
                fill=k.accent if j == 0 else k.muted,
            )


def _sheet(d: ImageDraw.ImageDraw, rng: random.Random, size: tuple[int, int], unit: float, p: Palette, text: RGB) -> None:  # fmt: skip
    """The swatches and the type scale of a design-system sheet, in the top-left area."""
    w, h = size
    swatches = [
        p.hue(j // 2) if j % 2 == 0 else tint(p.hue(j // 2), 0.5) for j in range(len(p.hues) * 2)
    ]
    per_row = rng.choice((2, 4, 8))
    round_ = rng.random() < 0.4
    rows = (len(swatches) + per_row - 1) // per_row
    cell = min(w * 0.38 / per_row, h * 0.22 / rows)
    for j, colour in enumerate(swatches):
        sx, sy = w * 0.06 + (j % per_row) * cell, h * 0.08 + (j // per_row) * cell * 1.1
        box = (sx, sy, sx + cell * 0.85, sy + cell * 0.85)
        if round_:
            d.ellipse(box, fill=colour)
        else:
            d.rounded_rectangle(box, unit * 0.4, fill=colour)
    top = h * 0.08 + rows * cell * 1.1 + unit
    steps = rng.randint(3, 6)
    for j in range(steps):  # the type scale, largest first
        tall = unit * (2.4 - j * 1.8 / steps)
        y = top + j * unit * 2.9
        if y + tall > h * 0.46:
            break
        d.rounded_rectangle(
            (w * 0.06, y, w * 0.06 + w * (0.36 - j * 0.04), y + tall), tall / 3, fill=text
        )


def _box(x0: float, y0: float, x1: float, y1: float) -> Box:
    return int(x0), int(y0), int(x1), int(y1)


def draw(brief: Brief, rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """The picture of an interface brief."""
    w, h = size
    p = brief.palette
    dark = brief.has("dark mode", "dark-mode", "dark")
    ground = p.hue(rng.randrange(len(p.hues)))
    board = gradient(size, tint(ground, 0.9), tint(ground, 0.76))
    if dark:
        board = gradient(size, shade(ground, 0.82), shade(ground, 0.7))
    d = ImageDraw.Draw(board)
    contrast = 0.0 if brief.has("high contrast") else 0.35
    bg = (24, 26, 30) if dark else p.paper
    line = (64, 68, 76) if dark else mix(p.ink, p.paper, 0.82)
    text = (236, 236, 236) if dark else mix(p.ink, p.paper, contrast / 3)
    muted = (118, 122, 130) if dark else mix(p.ink, p.paper, 0.45 + contrast / 3)
    surface = (38, 41, 47) if dark else (252, 252, 252)

    def kit(unit: float) -> Kit:
        return Kit(d, bg, surface, text, muted, line, p.hue(0), p.hue(1), unit)

    scene = brief.scene or rng.choice(("form", "dashboard", "settings", "pricing", "empty"))
    unit = min(w, h) / rng.uniform(26, 34)
    phone = brief.has("mobile", "320px", "phone", "app") or rng.random() < 0.5
    for _ in range(rng.randint(0, 2)):  # soft shapes on the board behind the device
        r, x, y = rng.uniform(0.15, 0.4) * w, rng.uniform(0, w), rng.uniform(0, h)
        d.ellipse(
            (x - r, y - r, x + r, y + r),
            fill=mix(
                shade(ground, 0.76) if dark else tint(ground, 0.83),
                p.hue(rng.randrange(len(p.hues))),
                0.25,
            ),
        )
    if brief.form == "screen":
        if phone:
            pw = min(w * 0.5, h * 0.46)
            cx = w * rng.uniform(0.36, 0.64)
            if rng.random() < 0.35:  # a second phone behind, another screen of the flow
                bx = cx + rng.choice((-1, 1)) * pw * 0.55
                back = (bx - pw * 0.42, h * 0.12, bx + pw * 0.42, h * 0.88)
                d.rounded_rectangle(back, pw * 0.1, fill=(28, 28, 30))
                _screen(
                    kit(pw / 22),
                    _box(
                        back[0] + pw * 0.035,
                        back[1] + pw * 0.08,
                        back[2] - pw * 0.035,
                        back[3] - pw * 0.07,
                    ),
                    rng.choice(sorted(set(SCENES.values()))),
                    rng,
                    brief,
                )
            frame = (cx - pw / 2, h * 0.06, cx + pw / 2, h * 0.94)
            d.rounded_rectangle(frame, pw * 0.12, fill=(28, 28, 30))
            screen = _box(
                frame[0] + pw * 0.04,
                frame[1] + pw * 0.1,
                frame[2] - pw * 0.04,
                frame[3] - pw * 0.08,
            )
            unit = pw / 18
        else:
            frame = (w * 0.06, h * 0.12, w * 0.94, h * 0.88)
            d.rounded_rectangle(frame, w * 0.015, fill=line)
            for j in range(3):
                d.ellipse(
                    (
                        frame[0] + w * (0.015 + j * 0.025),
                        frame[1] + h * 0.012,
                        frame[0] + w * (0.03 + j * 0.025),
                        frame[1] + h * 0.027,
                    ),
                    fill=p.hue(j),
                )
            screen = _box(frame[0] + 4, frame[1] + h * 0.04, frame[2] - 4, frame[3] - 4)
        _screen(kit(unit), screen, scene, rng, brief)
    elif brief.form == "component":
        for x in range(0, w, int(unit * 2)):  # a dotted design board
            for y in range(0, h, int(unit * 2)):
                d.point((x, y), fill=tint(p.ink, 0.6) if not dark else shade(p.paper, 0.6))
        states = rng.randint(1, 3)
        cw = (w * 0.86 - (states - 1) * unit) / states
        for j in range(states):
            box = (
                int(w * 0.07 + j * (cw + unit)),
                int(h * 0.2),
                int(w * 0.07 + j * (cw + unit) + cw),
                int(h * 0.8),
            )
            d.rounded_rectangle((box[0] - 6, box[1] - 6, box[2] + 6, box[3] + 6), unit, fill=line)
            _screen(
                kit(unit * (0.9 if states > 1 else 1.2) / (states**0.3)),
                box,
                scene,
                rng,
                brief,
            )
    else:  # a design-system sheet: swatches, a type scale, the component
        d.rectangle((0, 0, w, h), fill=bg)
        _sheet(d, rng, (w, h), unit, p, text)
        wide = rng.random() < 0.4  # the component across the bottom, or down the right
        box = (int(w * 0.06), int(h * 0.5), int(w * 0.94), int(h * 0.94)) if wide else (int(w * 0.5), int(h * 0.08), int(w * 0.94), int(h * 0.92))  # fmt: skip
        d.rounded_rectangle((box[0] - 5, box[1] - 5, box[2] + 5, box[3] + 5), unit, fill=line)
        _screen(kit(unit * 0.8), box, scene, rng, brief)
    if brief.form == "system" and rng.random() < 0.5:  # the sheet laid out the other way
        return board.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return board
