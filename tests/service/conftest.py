"""What the application layer's tests share."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _operator_link_opens(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite's fleets name the default operator link (127.0.0.1:8700, where no sandbox
    listens during a test): the tests here read other checks, so the link is taken as
    opening, unless a test is marked ``real_operator_link``. The link check itself is
    tried on real servers (``tests/service/test_operator_link.py``)."""
    if request.node.get_closest_marker("real_operator_link"):
        return
    from fleet.honesty import use_cases as honesty
    from fleet.infra.link_check import LinkAnswer

    monkeypatch.setattr(honesty, "check_link", lambda url, **_: LinkAnswer(url, True, 200))
