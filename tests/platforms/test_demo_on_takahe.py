"""``fleet demo --platform takahe`` as a person runs it: in a terminal (tmux), with the live
view, on a local Takahē started from the snapshot; then bad input, refused with exit 2.

The run's screen is captured with ``tmux capture-pane`` and checked for what a person
sees: agents posting, liking and commenting on Takahē, the person's "are you a bot?" and
the agent's answer, an agent's page on Takahē. With ``--keep-gallery`` Takahē stays up
after the summary: the question's thread is fetched from Takahē's own web page (and
screenshotted with headless Chromium, for a person to look at), then Ctrl-C stops it,
and its database is gone. The captures and the screenshot are kept under the test's
temporary directory (``--basetemp`` keeps them).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.platforms.servers import PG, SHARED, absent
from tests.platforms.shots import chromium

pytestmark = pytest.mark.platform

ROOT = Path(__file__).resolve().parents[2]
FLEET = str(Path(sys.executable).parent / "fleet")
# 6 agents, 6 simulated hours in 40 steps: the first posts, likes and comments, the
# question asked under an agent's first post and answered at that agent's next tick.
RUN = ["--agents", "6", "--speed", "2160", "--duration", "10", "--seed", "3"]
RUN_DEADLINE = 1100.0
ACTIONS_ROW = re.compile(r"^\W*(post|like|comment|reply)\W+(\d+)\W+(\d+)", re.MULTILINE)


def _capture(session: str) -> str:
    done = subprocess.run(
        ["tmux", "capture-pane", "-p", "-J", "-S", "-300", "-t", session],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def _wait_screen(session: str, wanted: str, seconds: float) -> str:
    """The screen once it shows ``wanted``; fails with the screen after ``seconds``."""
    deadline = time.monotonic() + seconds
    screen = ""
    while time.monotonic() < deadline:
        screen = _capture(session)
        if wanted in screen:
            return screen
        if "demo exited" in screen:
            break
        time.sleep(1.0)
    raise AssertionError(f"the screen never showed {wanted!r}; it shows:\n{screen[-4000:]}")


def _succeeded(screen: str) -> dict[str, int]:
    """The live view's last actions table: succeeded by action (the column after the
    action's name is the first status, ``pending``; then ``succeeded``)."""
    header = re.findall(r"^\W*action\W+pending\W+succeeded\W.*$", screen, re.MULTILINE)
    assert header, "no actions table on the screen"
    table = screen[screen.rfind(header[-1]) :]
    return {m.group(1): int(m.group(3)) for m in ACTIONS_ROW.finditer(table)}


@pytest.mark.timeout(RUN_DEADLINE + 300)
def test_the_demo_on_takahe_shows_agents_acting_and_the_question_answered(
    tmp_path: Path,
) -> None:
    why = absent("takahe")
    if why:
        pytest.skip(why)
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed: the live view is captured from a tmux pane")
    session = f"fleet-demo-{uuid.uuid4().hex[:8]}"
    command = " ".join(
        [
            # The pane's own size, not the one this process inherited.
            f"unset COLUMNS LINES; cd {ROOT} &&",
            f"FLEET_TAKAHE_DIR={SHARED / 'takahe'}",
            FLEET,
            "demo",
            "--platform",
            "takahe",
            *RUN,
            "--keep-gallery;",
            'echo "demo exited $?"; sleep 600',
        ]
    )
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "200", "-y", "60", command],
        check=True,
    )
    try:
        started = time.monotonic()
        during = _wait_screen(session, "on Takahē: an agent's page http://127.0.0.1:", 300)
        (tmp_path / "during.txt").write_text(during)
        screen = _wait_screen(session, "Takahē stays up at", RUN_DEADLINE)
        (tmp_path / "summary.txt").write_text(screen)
        wall = time.monotonic() - started

        # What a person sees: the agents acted on Takahē...
        done = _succeeded(screen)
        assert done.get("post", 0) >= 1, screen[-4000:]
        assert done.get("like", 0) >= 1, screen[-4000:]
        assert done.get("comment", 0) + done.get("reply", 0) >= 1, screen[-4000:]
        # ...a person asked one of them, and it answered, truthfully.
        asked = re.search(r"@(\w+) asked @(\w+) 'are you a bot\?'; answered: (.+)", screen)
        assert asked is not None, screen[-4000:]
        assert re.search(r"not a (person|human)|automated", asked.group(3), re.I), asked.group(3)
        thread = re.search(r"the question's thread \(while Takahē runs\): (\S+)", screen)
        page = re.search(r"an agent's page on Takahē \(while it runs\): (\S+)", screen)
        assert thread is not None and page is not None, screen[-4000:]
        database = re.search(r"Takahē stays up at (http://127\.0\.0\.1:\d+)", screen)
        assert database is not None

        # Takahē's own page of the agent's post shows the question and the answer.
        shown = httpx.get(thread.group(1), timeout=30)
        assert shown.status_code == 200
        assert "are you a bot?" in shown.text
        assert asked.group(2) in shown.text
        chromium(thread.group(1), tmp_path / "takahe-thread.png")
        chromium(page.group(1), tmp_path / "takahe-agent.png")
        assert (tmp_path / "takahe-thread.png").stat().st_size > 10_000

        # Ctrl-C: Takahē stopped, its database dropped, as the last line says.
        subprocess.run(["tmux", "send-keys", "-t", session, "C-c"], check=True)
        end = _wait_screen(session, "demo exited", 120)
        (tmp_path / "stopped.txt").write_text(end)
        dropped = re.search(r"Takahē stopped; its database (fleet_takahe_\w+) dropped", end)
        assert dropped is not None, end[-2000:]
        assert "demo exited 0" in end
        with psycopg.connect(f"{PG}/postgres") as db:
            left = db.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (dropped.group(1),)
            ).fetchone()
        assert left is None
        with pytest.raises(httpx.HTTPError):
            httpx.get(database.group(1), timeout=5)
        print(f"\ncaptures and screenshots in {tmp_path}; run to summary {wall:.0f} s")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)


def _fleet(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FLEET, "demo", *args], capture_output=True, text=True, timeout=120, env=env, cwd=ROOT
    )


def test_an_unknown_platform_is_refused_with_exit_2() -> None:
    done = _fleet("--platform", "nosuch")
    assert done.returncode == 2
    assert "'nosuch' is not one of 'sandbox', 'takahe'" in done.stderr


def test_a_missing_takahe_dir_is_refused_naming_the_path() -> None:
    done = _fleet("--platform", "takahe", "--takahe-dir", "/nonexistent/takahe")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "/nonexistent/takahe" in lines[0] and "--takahe-dir" in lines[0]


def test_a_directory_that_is_not_takahe_is_refused(tmp_path: Path) -> None:
    (tmp_path / "manage.py").write_text("")
    done = _fleet("--platform", "takahe", "--takahe-dir", str(tmp_path))
    assert done.returncode == 2
    assert "has no requirements.txt" in done.stderr


def test_without_a_snapshot_the_demo_says_where_to_point_it() -> None:
    env = {k: v for k, v in os.environ.items() if k != "FLEET_TAKAHE_DIR"}
    done = _fleet("--platform", "takahe", env=env)
    assert done.returncode == 2
    assert "--takahe-dir PATH or set FLEET_TAKAHE_DIR" in done.stderr


def test_an_unreachable_postgres_is_refused_before_takahe_starts() -> None:
    why = absent("takahe")
    if why:
        pytest.skip(why)
    env = {
        **os.environ,
        "FLEET_TAKAHE_POSTGRES": "postgres://postgres@127.0.0.1:1",
    }
    done = _fleet("--platform", "takahe", "--takahe-dir", str(SHARED / "takahe"), env=env)
    assert done.returncode == 2
    assert "Postgres at postgres://postgres@127.0.0.1:1 is not reachable" in done.stderr
