"""The agents context: its gateway. Commands write, queries read; callers use only this."""

from fleet.agents.commands import (
    TRANSITIONS,
    change_status,
    create_agents,
    defer_agent,
    delete_agents,
    mark_people_waiting,
    set_platform_user,
)
from fleet.agents.deciding import Decision, decide_ticks, manual_key
from fleet.agents.heartbeat import DispatchReport, Tick, dispatch_due
from fleet.agents.memories import (
    Remembered,
    memories_of,
    memory_count,
    published_vectors,
    remember,
)
from fleet.agents.post_vectors import forget_post_vectors, keep_post_vectors, post_vectors
from fleet.agents.queries import (
    AgentFilter,
    Deferrals,
    active_next_ticks,
    active_since,
    active_without_account,
    activity_of,
    agent_counts,
    agents_after,
    deferred_past,
    due_now,
    fleet_handles,
    get_agent,
    handles_with_accounts,
    list_agents,
    persona_totals,
    without_account,
)
from fleet.agents.selection import Selection, parse_ref
from fleet.agents.views import AgentView, Created, Transition
from fleet.core.statuses import AGENT_STATUSES

__all__ = [
    "AGENT_STATUSES",
    "TRANSITIONS",
    "AgentFilter",
    "AgentView",
    "Created",
    "Decision",
    "Deferrals",
    "DispatchReport",
    "Remembered",
    "Selection",
    "Tick",
    "Transition",
    "active_next_ticks",
    "active_since",
    "active_without_account",
    "activity_of",
    "agent_counts",
    "agents_after",
    "change_status",
    "create_agents",
    "decide_ticks",
    "defer_agent",
    "deferred_past",
    "delete_agents",
    "dispatch_due",
    "due_now",
    "fleet_handles",
    "forget_post_vectors",
    "get_agent",
    "handles_with_accounts",
    "keep_post_vectors",
    "list_agents",
    "manual_key",
    "mark_people_waiting",
    "memories_of",
    "memory_count",
    "parse_ref",
    "persona_totals",
    "post_vectors",
    "published_vectors",
    "remember",
    "set_platform_user",
    "without_account",
]
