"""The sandbox's tests' helpers: the service token, the admin API, one TLS context.

This directory is no package (no ``__init__.py``): Fleet's suite owns the name ``tests``,
and both run in one pytest session (``testpaths`` in the root's pyproject.toml), so these
modules are imported by their own names.
"""

from __future__ import annotations

from typing import Any

import httpx

TOKEN = "svc-token-3f9a7c1e5b"  # distinctive, so a leak is easy to find
# The TLS context the tests' HTTP clients carry (they speak plain HTTP to loopback): built
# once, where each client would otherwise load the CA bundle again.
TLS = httpx.create_ssl_context()


class Admin:
    """The sandbox's admin API, for tests."""

    def __init__(self, url: str, token: str = TOKEN) -> None:
        self.http = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10, verify=TLS
        )

    def _put(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = self.http.put(path, json=body)
        assert answer.status_code == 200, answer.text
        return answer.json()  # type: ignore[no-any-return]

    def faults(self, **faults: Any) -> dict[str, Any]:
        """Replace the injected faults (camelCase keys: errorRates, loseAnswerRates...)."""
        return self._put("/admin/faults", faults)

    def idempotency(self, enabled: bool) -> None:
        self._put("/admin/idempotency", {"enabled": enabled})

    def report(self) -> dict[str, Any]:
        return self.http.get("/admin/report").json()  # type: ignore[no-any-return]

    def reset(self) -> None:
        assert self.http.post("/admin/reset").status_code == 200

    def close(self) -> None:
        self.http.close()
