"""Beat's pulse: touched when beat hands a message to the broker, not otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest
from celery.beat import ScheduleEntry

from fleet.settings import Settings
from fleet.worker.app import create_app
from fleet.worker.beat import PulseScheduler


def test_beat_touches_its_pulse_after_each_publish_and_not_when_publishing_fails(
    tmp_path: Path,
) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/f.db"))
    assert app.conf.beat_scheduler == "fleet.worker.beat:PulseScheduler"
    scheduler = PulseScheduler(app=app, schedule_filename=str(tmp_path / "beat"))
    # A task name no module registers: beat sends it by name (send_task), as it does for
    # every entry in a beat process that imports no task module.
    entry = ScheduleEntry(name="probe", task="fleet.pulse_probe", schedule=1.0, app=app)
    assert not scheduler.pulse_path.exists()
    scheduler.apply_async(entry)
    assert scheduler.pulse_path == tmp_path / "beat.pulse" and scheduler.pulse_path.exists()
    before = scheduler.pulse_path.stat().st_mtime_ns
    scheduler.pulse_path.unlink()

    class Unreachable(Exception):
        pass

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise Unreachable("broker unreachable")

    scheduler.send_task = refuse  # type: ignore[method-assign]
    with pytest.raises(Exception, match="broker unreachable"):
        scheduler.apply_async(entry)
    assert not scheduler.pulse_path.exists(), f"no pulse without a publish (was {before})"
    scheduler.close()
