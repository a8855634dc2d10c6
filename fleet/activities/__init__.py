"""The activities context: the ledger of decided actions, dead letters and fleet holds."""

from fleet.activities.commands import (
    claim,
    create_activity,
    expired_leases,
    finish,
    record_failure,
    release,
    save_progress,
)
from fleet.activities.dead_letters import bury, bury_missing, purge, recover, replay
from fleet.activities.holds import active_hold, defer_agent, hold_fleet, release_holds
from fleet.activities.queries import (
    ActivityFilter,
    activity_stats,
    engaged_posts,
    get_dead_letter,
    list_activities,
    list_dead_letters,
    recent_texts,
)
from fleet.activities.targets import keep_target
from fleet.activities.views import (
    ActivityView,
    Actor,
    Chooser,
    Claim,
    DeadLetterView,
    FirstChoice,
    Held,
    Hold,
    TargetKept,
)

__all__ = [
    "ActivityFilter",
    "ActivityView",
    "Actor",
    "Chooser",
    "Claim",
    "DeadLetterView",
    "FirstChoice",
    "Held",
    "Hold",
    "TargetKept",
    "active_hold",
    "activity_stats",
    "bury",
    "bury_missing",
    "claim",
    "create_activity",
    "defer_agent",
    "engaged_posts",
    "expired_leases",
    "finish",
    "get_dead_letter",
    "hold_fleet",
    "keep_target",
    "list_activities",
    "list_dead_letters",
    "purge",
    "recent_texts",
    "record_failure",
    "recover",
    "release",
    "release_holds",
    "replay",
    "save_progress",
]
