"""Headless Chromium driven over the DevTools protocol: open a page, wait until it shows
something, read its text, take a screenshot. For pages that keep a live connection
(the feed's event stream), where ``--dump-dom`` would never settle."""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from websockets.sync.client import ClientConnection, connect

# What Chromium answers an evaluation while the page navigates or its document is replaced.
NAVIGATING = ("navigated or closed", "Execution context was destroyed", "Cannot find context")


class Browser:
    """One headless Chromium with one tab."""

    def __init__(self, chromium: str, profile: Path) -> None:
        self._process = subprocess.Popen(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--no-proxy-server",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1280,1200",
                "--remote-debugging-port=0",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 20
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > deadline:
                raise RuntimeError("chromium did not open its debugging port")
            time.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        import httpx

        targets = httpx.get(f"http://127.0.0.1:{port}/json", trust_env=False).json()
        page = next(t for t in targets if t["type"] == "page")
        self._stack = contextlib.ExitStack()
        self._ws: ClientConnection = self._stack.enter_context(
            connect(page["webSocketDebuggerUrl"], max_size=None)
        )
        self._ids = itertools.count(1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        number = next(self._ids)
        self._ws.send(json.dumps({"id": number, "method": method, "params": params}))
        while True:
            message = json.loads(self._ws.recv(timeout=30))
            if message.get("id") == number:
                if "error" in message:
                    raise RuntimeError(message["error"])
                return message.get("result", {})  # type: ignore[no-any-return]

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete'")

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def text(self, selector: str = "body") -> str:
        return str(self.evaluate(f"document.querySelector({json.dumps(selector)}).innerText"))

    def html(self, selector: str = "body") -> str:
        return str(self.evaluate(f"document.querySelector({json.dumps(selector)}).innerHTML"))

    def wait_for(self, expression: str, timeout: float = 10.0) -> float:
        """Seconds until ``expression`` is true in the page (AssertionError past timeout)."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            try:
                if self.evaluate(expression):
                    return time.monotonic() - start
            except RuntimeError as error:
                # A click that submits a form navigates: a page mid-navigation answers no
                # evaluation ("Inspected target navigated or closed"); the next one will.
                if not any(said in str(error) for said in NAVIGATING):
                    raise
            time.sleep(0.02)
        raise AssertionError(f"the page never showed: {expression}")

    def screenshot(self, path: Path) -> None:
        path.parent.mkdir(exist_ok=True)
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        self._stack.close()
        self._process.terminate()
        self._process.wait(timeout=10)

    def __enter__(self) -> Browser:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()
