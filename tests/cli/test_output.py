"""Tables as a person reads them on an 80-column terminal: identifiers whole, titles on
one line."""

from __future__ import annotations

import io

from rich.console import Console

from fleet.cli.output import print_table


def _printed(title: str | None, columns: list[str], rows: list[tuple[object, ...]]) -> str:
    out = io.StringIO()
    print_table(title, columns, rows, console=Console(file=out, width=80))
    return out.getvalue()


def test_a_slug_is_never_split_and_long_text_wraps_at_spaces() -> None:
    rows = [
        ("social_media_marketer", "Social Media Marketer", "post=2% comment=19% reply=4% " * 3),
        ("product_photographer", "Product Photographer", "like=52% browse=26% " * 4),
    ]
    shown = _printed(None, ["slug", "name", "actions"], rows)
    lines = shown.splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert "social_media_marketer" in shown and "product_photographer" in shown
    assert "comment=19%" in shown  # words whole


def test_a_title_wider_than_its_table_stays_on_one_line() -> None:
    shown = _printed("actions in the last 5 minutes", ["a", "b"], [("x", 1)])
    assert shown.splitlines()[0].strip() == "actions in the last 5 minutes"
