"""What every page of the console shares: the templates, a page rendered for a request,
the redirect after a change, the guard of a POST, and the small readers of a form."""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode, urlsplit, urlunsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from fleet.console.security import Guard, csrf_of, session_of
from fleet.core.statuses import AGENT_STATUSES as AGENT_STATUSES  # the pages list them
from fleet.core.statuses import ActivityStatus
from fleet.errors import ConflictError, FleetError, InputError
from fleet.infra.redaction import redact
from fleet.service.root import Fleet

HERE = Path(__file__).parent
# The ledger's statuses in the order the pages show them: endings first, then waiting.
STATUSES: tuple[str, ...] = tuple(
    s.value
    for s in (
        ActivityStatus.SUCCEEDED,
        ActivityStatus.SKIPPED,
        ActivityStatus.DEAD,
        ActivityStatus.PENDING,
        ActivityStatus.AWAITING_REVIEW,
    )
)
Handler = Callable[[Request], Awaitable[Response]]
T = TypeVar("T")


@dataclass
class Web:
    """The fleet, its guard and the templates: what each page module is built on."""

    fleet: Fleet
    guard: Guard
    env: Environment
    # Readings kept fresh in the background while the app runs (started by its lifespan).
    polled: list[Polled[Any]] = field(default_factory=list)
    # Results too big for a redirect's URL, kept for the page the redirect leads to.
    kept: Kept = field(default_factory=lambda: Kept())

    @classmethod
    def of(cls, fleet: Fleet, guard: Guard) -> Web:
        secrets = fleet.secrets
        env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            # Whatever a page prints passes here: a secret never reaches a page.
            finalize=lambda value: _masked(value, secrets),
        )
        env.filters["when"] = when
        return cls(fleet, guard, env)

    @property
    def gallery(self) -> str:
        """The gallery's address for a link, without its trailing slash: without the
        user and password it may carry (a browser would not follow the link, and the
        mask would print it broken)."""
        return without_credentials(str(self.fleet.settings.gallery.url)).rstrip("/")

    def post_url(self, post_id: object) -> str:
        """Where a person sees the post ``post_id`` on the gallery (a link: no credentials)."""
        return without_credentials(self.fleet.settings.gallery.post_url(post_id))

    def page(
        self, request: Request, name: str, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        template = self.env.get_template(name)
        html = template.render(
            post_url=self.post_url,
            request=request,
            csrf=csrf_of(request),
            signed_in=(self.guard.open or session_of(request).user or request.state.via_basic),
            password_set=not self.guard.open,
            path=request.url.path,
            # Only what the console signed: a link cannot put words on its pages.
            **{"said": self.guard.said(request.query_params.get("said")), **context},
        )
        return HTMLResponse(html, status_code=status_code)

    def error(self, request: Request, status_code: int, message: str) -> HTMLResponse:
        return self.page(request, "error.html", status_code, message=message)

    def back(self, path: str, said: str, **more: str) -> RedirectResponse:
        """After a change: the page it was made on, saying what was done (signed, 303: the
        browser GETs it, so a reload never repeats the change)."""
        query = urlencode({"said": self.guard.sign_said(said), **more})
        return RedirectResponse(f"{path}?{query}", status_code=303)


def web_of(request: Request) -> Web:
    """The console serving ``request`` (put on the app's state by ``build_app``)."""
    found: Web = request.app.state.web
    return found


def reading(handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
    """A page that only reads: a refused value in its address (InputError) is a 400
    page naming it, not a 500. A plain function, run on the thread pool."""

    def run(request: Request) -> Response:
        try:
            return handler(request)
        except InputError as error:
            return web_of(request).error(request, 400, str(error))

    return run


def guarded(handler: Handler) -> Handler:
    """A POST: the fleet's refusals shown as pages (its CSRF token is checked by the
    handler's ``checked_form`` first)."""

    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except PermissionError as error:
            return web_of(request).error(request, 403, str(error))
        except (InputError, ConflictError) as error:
            return web_of(request).error(request, 400, str(error))
        except FleetError as error:
            return web_of(request).error(request, 500, str(error))

    return run


class Kept:
    """The last results of POSTs, each under a random id and the session that made it,
    so a POST answers with a redirect (POST-redirect-GET: a reload never repeats it) and
    the page it leads to shows what the redirect's URL cannot carry. In memory: the
    console is one process; a result lost with a restart is said so."""

    def __init__(self, *, size: int = 100) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[str, str], Any] = OrderedDict()

    def put(self, request: Request, value: Any) -> str:
        token = secrets.token_urlsafe(12)
        with self._lock:
            self._items[(_owner(request), token)] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return token

    def get(self, request: Request, token: str | None) -> Any:
        """The value kept under ``token`` for this session (None if unknown or gone)."""
        if not token:
            return None
        with self._lock:
            return self._items.get((_owner(request), token))


def _owner(request: Request) -> str:
    return "basic" if request.state.via_basic else session_of(request).nonce


class Recent(Generic[T]):
    """A value read at most once every ``seconds``, shared by the threads that ask."""

    def __init__(self, read: Callable[[], T], *, seconds: float) -> None:
        self._read, self._seconds = read, seconds
        self._lock = threading.Lock()
        self._value: T | None = None
        self._at = 0.0

    def get(self) -> T:
        with self._lock:
            if self._value is None or time.monotonic() - self._at > self._seconds:
                self._value, self._at = self._read(), time.monotonic()
            return self._value


class Polled(Generic[T]):
    """A slow reading (a ping that waits for answers) redone every ``seconds`` on a thread
    of its own, so a page shows the last one without waiting: ``value`` is None until the
    first reading, ``failed`` says why the last one could not be made."""

    def __init__(self, read: Callable[[], T], *, seconds: float) -> None:
        self._read, self._seconds = read, seconds
        self._stop = threading.Event()
        self._again = threading.Event()
        self._thread: threading.Thread | None = None
        self.value: T | None = None
        self.read_at: float | None = None
        self.failed: str | None = None

    @property
    def age_seconds(self) -> float | None:
        """How long ago the last reading was made (None before the first)."""
        return None if self.read_at is None else time.monotonic() - self.read_at

    def start(self) -> None:
        """Read on a thread of its own until ``stop``; again after a ``stop`` (an app's
        second lifespan). Nothing when a reading thread already runs."""
        if self._thread is not None and self._thread.is_alive():
            return
        # Events of this thread's own: a thread an earlier ``stop`` gave up waiting for
        # still ends after its reading, whatever this one does.
        self._stop, self._again = threading.Event(), threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(self._stop, self._again), name="console-poll", daemon=True
        )
        self._thread.start()

    def refresh(self) -> None:
        """Read again now (the thread wakes; the page shows the new reading when made)."""
        self._again.set()

    def stop(self, timeout: float = 5.0) -> bool:
        """End the thread, waiting up to ``timeout`` seconds for a reading under way: it
        holds the fleet's connections (the database's, the broker's) until it ends. False
        when it still reads."""
        self._stop.set()
        self._again.set()
        thread, self._thread = self._thread, None
        if thread is None:
            return True
        thread.join(timeout=timeout)
        return not thread.is_alive()

    def _run(self, stop: threading.Event, again: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.value, self.failed = self._read(), None
            except Exception as error:  # shown on the page; the next round tries again
                self.failed = f"{type(error).__name__}: {error}"[:200]
            self.read_at = time.monotonic()
            again.wait(self._seconds)
            again.clear()


def _masked(value: Any, secrets: tuple[str, ...]) -> Any:
    if value is None:
        return ""
    if isinstance(value, Markup):
        return value  # the console's own markup (charts, rendered events)
    if isinstance(value, str) and secrets:
        return redact(value, secrets)
    return value


def when(value: Any) -> str:
    if value is None:
        return "—"
    return str(value.strftime("%Y-%m-%d %H:%M:%S"))


def without_credentials(url: str) -> str:
    """``url`` without a ``user:password@`` part."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


# The largest id a database row has (a BIGINT): a bigger number is no row, but a query
# with it fails.
LARGEST_ID = 2**63 - 1
# The longest search or filter a page reads.
LONGEST_TEXT = 200


def row_id(text: str | None, *, field: str) -> int | None:
    """An id from an address (a row id, a keyset's bound): None when absent, else a whole
    number from 0 to ``LARGEST_ID`` (InputError naming ``field``)."""
    if text is None or not text.strip():
        return None
    shown = text.strip()[:30]
    try:
        value = int(text.strip()) if len(text.strip()) <= 30 else -1
    except ValueError:
        raise InputError(f"{field} {shown!r}: expected a whole number") from None
    if not 0 <= value <= LARGEST_ID:
        raise InputError(f"{field} {shown!r}: expected a whole number from 0 to {LARGEST_ID}")
    return value


def short_text(text: str | None, *, field: str, longest: int = LONGEST_TEXT) -> str | None:
    """A search or filter from an address: None when empty, else at most ``longest``
    characters (InputError naming ``field``)."""
    if text is None or not text.strip():
        return None
    if len(text) > longest:
        raise InputError(f"{field}: at most {longest} characters (got {len(text)})")
    return text


def whole(text: Any) -> int:
    """A whole number from a form or query value (InputError for anything else)."""
    try:
        return int(str(text).strip())
    except (TypeError, ValueError):
        raise InputError(f"not a whole number: {text!r}") from None
