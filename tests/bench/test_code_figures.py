"""bench.code_figures counts what it says on a tree made for it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.code_figures import figures

MODULES = {
    "fleet/db/store.py": """
def fast(session, flag: bool, other: bool | None = None):
    if session.get_bind().dialect.name == "postgresql":
        return "pending"
    return "SELECT 1 WHERE status = 'succeeded'"
""",
    "fleet/migrations/versions/0001_x.py": """
def upgrade(op):
    if op.get_bind().dialect.name == "postgresql":
        return "pending"
""",
    "fleet/core/statuses.py": 'PENDING = "pending"\n',
    "fleet/actions/kit.py": """
from dataclasses import dataclass, replace
from typing import ClassVar

@dataclass
class ActionKit:
    gallery: object
    publish: object = None
    kinds: ClassVar[int] = 5

def batch(kit: ActionKit, key: str, a, b, c, d, e):
    action = ActionKey.parse(key).action
    if key.endswith(":like"):
        pass
    with admitted(kit) as acting:
        acting = replace(acting, publish=print)
    return replace(kit, gallery=None), replace(key, x=1)

Outcome = int
class Failed: ...
""",
    "fleet/actions/long.py": "def long():\n" + "    x = 1\n" * 50,
    "fleet/console/app.py": """
def build():
    def page(request): ...
    return [Route("/", guarded(page)), Route("/top", top)]

def top(request): ...
""",
}


def test_each_figure_is_counted_where_it_is(tmp_path: Path) -> None:
    for name, text in MODULES.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (tmp_path / "tests" / "core").mkdir(parents=True)
    (tmp_path / "tests" / "test_flat.py").write_text("")
    (tmp_path / "tests" / "core" / "test_deep.py").write_text("")
    found = figures(tmp_path)
    assert found["dialect_branches"]["outside_migrations"] == 1
    assert found["dialect_branches"]["with_migrations"] == 2
    assert found["status_literals"]["exact"] == 1  # not the enum's, not a migration's
    assert found["status_literals"]["quoted_in_sql"] == 1
    assert found["long_functions"]["where"] == ["fleet/actions/long.py:1:long"]
    assert found["many_parameters"]["where"] == ["fleet/actions/kit.py:11:batch"]
    assert found["bool_parameters"] == 2
    assert found["action_key_parses"]["where"] == {"fleet/actions/kit.py": [12, 13]}
    assert found["flat_test_modules"]["where"] == ["test_flat.py"]
    assert found["console_closure_endpoints"]["where"] == ["fleet/console/app.py:page"]
    assert found["action_kit"]["names"] == ["gallery", "publish"]
    assert found["action_kit"]["where"] == {"fleet/actions/kit.py": [16, 17]}
    assert found["ending_types"]["names"] == [
        "fleet/actions/kit.py:Outcome",
        "fleet/actions/kit.py:Failed",
    ]


def test_the_command_prints_json_of_this_tree() -> None:
    root = Path(__file__).resolve().parents[2]
    printed = subprocess.run(
        [sys.executable, "-m", "bench.code_figures", "--root", str(root)],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = json.loads(printed)
    assert found["flat_test_modules"]["count"] == 0
    assert "where" not in found["long_functions"]
