"""The heartbeat and the Celery tasks: how often, how much, how long."""

from __future__ import annotations

from pydantic import Field, model_validator

from fleet.settings.base import _Nested


class DispatchSettings(_Nested):
    """The heartbeat: how often beat runs the dispatcher and how much it claims."""

    interval_seconds: float = Field(default=1.0, gt=0, le=60)
    batch_size: int = Field(default=1000, ge=1, le=100_000)
    max_batches_per_cycle: int = Field(default=20, ge=1)
    # An agent whose ticks are due further back than this (the fleet was down) gets one
    # tick for the gap and its rhythm from now, not a burst of catch-up ticks.
    catch_up_seconds: float = Field(default=60.0, ge=0, le=86_400)
    # Agents due within this many seconds are claimed ahead, and their ticks held by the
    # workers until their due second: a tick is decided when it is due, not when the next
    # cycle happens to run (up to an interval later). 0: only ticks already due.
    lead_seconds: float = Field(default=1.0, ge=0, le=60)


class TaskSettings(_Nested):
    """Celery task limits; all well below the broker's visibility timeout."""

    soft_time_limit_seconds: float = Field(default=60.0, gt=0)
    time_limit_seconds: float = Field(default=90.0, gt=0)
    visibility_timeout_seconds: float = Field(default=3600.0, gt=0)
    lease_seconds: float = Field(default=300.0, gt=0)
    # A decided action no delivery has claimed for this long is re-sent: longer than any
    # backlog of its queue could explain (a lost message, not a slow queue). A claim is
    # exclusive, so a re-sent copy of a queued action does no second work in any case.
    unclaimed_seconds: float = Field(default=900.0, gt=0)
    max_retries: int = Field(default=5, ge=0, le=50)
    # Deliveries of an action that may end without a verdict (its worker killed, its
    # message lost) on top of its attempts and deferrals, before it ends dead.
    max_lost_deliveries: int = Field(default=10, ge=0, le=1000)
    tick_batch_size: int = Field(default=100, ge=1, le=10_000)
    # The cheap kinds (the registry's ``batchable``) a tick decides go to the workers in
    # batch messages of up to this many keys (1: one message per action); a worker runs a
    # batch's gallery calls on this many threads.
    action_batch_size: int = Field(default=50, ge=1, le=1000)
    action_batch_threads: int = Field(default=8, ge=1, le=64)
    # A message of one cheap action (a retry, a sweep's re-send, an approval, a tick sent
    # alone) waits in the worker's main process at most this long for others of its task,
    # then they go to one pool process as one batch (0, the default: each goes alone; a
    # Redis link cut without a reset failed to resume with it on, 2 runs of about 8).
    coalesce_seconds: float = Field(default=0.0, ge=0, le=5)
    sweep_interval_seconds: float = Field(default=15.0, gt=0)

    @model_validator(mode="after")
    def _limits_in_order(self) -> TaskSettings:
        if (
            not self.soft_time_limit_seconds
            < self.time_limit_seconds
            < self.visibility_timeout_seconds
        ):
            raise ValueError(
                "need FLEET_TASKS__SOFT_TIME_LIMIT_SECONDS "
                f"({self.soft_time_limit_seconds:g}) < FLEET_TASKS__TIME_LIMIT_SECONDS "
                f"({self.time_limit_seconds:g}) < FLEET_TASKS__VISIBILITY_TIMEOUT_SECONDS "
                f"({self.visibility_timeout_seconds:g})"
            )
        return self
