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


# A publish from a task to a broker that fails to answer is tried again this many times,
# on a new connection, this many seconds after (Celery's default is 3 times: 50 s on a
# silent Redis with a 10 s timeout). A publish that still fails is left to the lease
# sweeper, which re-sends an action whose retry never came.
PUBLISH_RETRIES = 1
PUBLISH_RETRY_INTERVAL = 0.25


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
    # then they go to one pool process as one batch (0: each goes alone).
    coalesce_seconds: float = Field(default=0.05, ge=0, le=5)
    sweep_interval_seconds: float = Field(default=15.0, gt=0)
    # Seconds a call to Redis (the broker's and Fleet's own) waits for its answer or its
    # connection: far above a live link's milliseconds, and small enough that a task's
    # publish to a silent broker gives up well inside the soft time limit
    # (``publish_bound_seconds``).
    redis_timeout_seconds: float = Field(default=2.0, gt=0, le=30)
    # A prefork pool process is replaced by a fresh fork after this many tasks (0: never).
    # Over days a child comes to write (and so copy) ever more of the pages it shares with
    # the worker's main process, and fills what it keeps for itself (the echo window, the
    # posts' vectors): a fresh fork shares them again (docs/operations.md, "A week").
    max_tasks_per_child: int = Field(default=250, ge=0, le=1_000_000)

    @property
    def publish_bound_seconds(self) -> float:
        """The longest a task's publish waits on a broker gone silent: its first try, a new
        connection, and each retry on it (``PUBLISH_RETRIES``), each up to the timeout.
        A soft time limit that fires inside Celery's own retry or result handling can
        leave a pool process's result half-written and stop the worker (seen at a Redis
        link cut), so the bound must leave the task room within its limit."""
        waits = 1 + 2 * PUBLISH_RETRIES
        return waits * self.redis_timeout_seconds + PUBLISH_RETRIES * PUBLISH_RETRY_INTERVAL

    @model_validator(mode="after")
    def _publish_within_the_limit(self) -> TaskSettings:
        if self.publish_bound_seconds >= self.soft_time_limit_seconds:
            raise ValueError(
                f"FLEET_TASKS__REDIS_TIMEOUT_SECONDS ({self.redis_timeout_seconds:g}) lets a "
                f"publish to a silent broker wait {self.publish_bound_seconds:g} s: it must "
                "be under FLEET_TASKS__SOFT_TIME_LIMIT_SECONDS "
                f"({self.soft_time_limit_seconds:g})"
            )
        return self

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
