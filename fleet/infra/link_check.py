"""Does a link open? One bounded GET (the operator's page every agent account links to).

The answer is someone else's: the call ends within its deadline on the bounded transport
(``fleet.infra.transports``), at most ``MAX_BYTES`` of the body are read, redirects are
followed a few times at the most, and every way it fails is one line of reason, never
the page's own text.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass

import httpx

from fleet.infra import bounded, transports

MAX_BYTES = 64 * 1024
MAX_REDIRECTS = 3


@dataclass(frozen=True, slots=True)
class LinkAnswer:
    """What a GET of the link gave: ``ok`` (a 2xx within the deadline), the status (None:
    no answer), and a short reason when it is not ok."""

    url: str
    ok: bool
    status: int | None
    reason: str = ""


def check_link(url: str, *, seconds: float = 5.0) -> LinkAnswer:
    """GET ``url`` (http or https) within ``seconds``; never raises for the link's sake."""
    if not url.startswith(("http://", "https://")):
        return LinkAnswer(url, False, None, "not an http(s) address")
    status: int | None = None
    try:
        with (
            bounded.within(seconds),
            httpx.Client(
                transport=transports.Transport(verify=None, proxy=transports.proxy_for(url)),
                follow_redirects=True,
                max_redirects=MAX_REDIRECTS,
                timeout=seconds,
                headers={"X-Fleet-Origin": "automated", "Accept": "text/html"},
            ) as client,
            client.stream("GET", url) as response,
        ):
            status = response.status_code
            # A long page answered all the same: its status says.
            with suppress(bounded.AnswerTooLarge):
                bounded.read_response(response, cap=MAX_BYTES)
    except (httpx.HTTPError, bounded.AnswerRefused, OSError) as error:
        if status is None:
            return LinkAnswer(url, False, None, f"no answer ({type(error).__name__})")
    if status is not None and 200 <= status < 300:
        return LinkAnswer(url, True, status)
    return LinkAnswer(url, False, status, f"HTTP {status}")
