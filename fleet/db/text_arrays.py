"""Lists of strings sent to Postgres as one array literal, built by whole-string operations.

psycopg's text ``ListDumper`` dumps each element on its own, searches it with one regular
expression for what needs quoting and escapes it with another, whose template it expands
per element. A batch of 50 likes sends a dozen such arrays (the finish's statuses and
details, the memories' texts, the claim's keys, target choice's posts), and in
``bench.like_cpu``'s profile that was 11 % of the worker's CPU.

A flat list of plain ``str`` makes the same array: every element quoted, its backslashes
and double quotes escaped (Postgres's array input reads a quoted element literally, so
spaces, commas, braces and the word NULL need nothing more), built with ``join`` and
``replace`` over the whole list at once. Anything else (a None, a nested list, an enum's
member, a string holding NUL, a connection not in UTF-8) is psycopg's own dumper's, with
its own answers and errors.
"""

from __future__ import annotations

from typing import Any

from psycopg.abc import Buffer
from psycopg.types.array import ListDumper

# Never in a Postgres text value (the server refuses it): it parts the elements while the
# escapes are made, so they are made over the whole list in two calls.
_PART = "\x00"


class TextListDumper(ListDumper):
    """psycopg's text ``ListDumper``, with a direct path for a flat list of ``str``."""

    def dump(self, obj: list[Any]) -> Buffer | None:
        if not obj or set(map(type, obj)) != {str} or self._tx.encoding != "utf-8":
            return super().dump(obj)
        joined = _PART.join(obj)
        if joined.count(_PART) != len(obj) - 1:
            # An element holds NUL: psycopg's own dumper refuses it by name.
            return super().dump(obj)
        if "\\" in joined or '"' in joined:
            joined = joined.replace("\\", "\\\\").replace('"', '\\"')
        return ('{"' + joined.replace(_PART, '","') + '"}').encode()


def use_text_list_dumper(dbapi_connection: Any, _record: Any = None) -> None:
    """Dump lists with ``TextListDumper`` on this psycopg connection (a ``connect``
    listener of the fleet's Postgres engines)."""
    dbapi_connection.adapters.register_dumper(list, TextListDumper)
