"""``fleet demo`` serves the console during the run, fed by the demo's own events."""

from __future__ import annotations

from pathlib import Path

import httpx

from fleet.demo.run import Demo, DemoOptions


def test_the_demo_serves_the_console_and_feeds_it_its_events(tmp_path: Path) -> None:
    demo = Demo(DemoOptions(agents=6, duration=2, seed=3), tmp_path)
    try:
        demo.prepare()
        assert demo.console is not None
        with (
            httpx.Client(base_url=demo.console.url, trust_env=False, timeout=10) as http,
            http.stream("GET", "/feed/events") as stream,
        ):
            assert http.get("/agents").status_code == 200
            lines = stream.iter_lines()
            for line in lines:
                if line.startswith("event: status"):
                    break
            demo._event({"handle": "demo_agent", "action": "browse", "status": "succeeded"})
            got = []
            for line in lines:
                got.append(line)
                if "demo_agent" in line:
                    break
        assert any("live: the demo" in line for line in got), got
        assert '<a href="/agents/demo_agent">demo_agent</a> browsed the feed' in got[-1]
    finally:
        demo.close()
        demo.sandbox.stop()
