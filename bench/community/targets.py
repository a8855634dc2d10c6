"""bench.community.targets: the targets of issues 28 and 29, and the verdicts on one seed's
figures or on several seeds' mean.
"""

from __future__ import annotations

from typing import Any

import numpy as np

TARGETS = {
    "interest_fit_p": (">=", 0.75),
    "likes_gini": (">=", 0.45),
    "likes_top10_share": (">=", 0.35),
    "reciprocity_ratio": (">=", 1.3),
    "near_duplicate_comments": ("<=", 0.30),
    "near_duplicate_replies": ("<=", 0.30),
    "exact_repeat_replies": ("<=", 0),
    "near_duplicate_posts": ("<=", 0.05),
    "identity_margin": (">=", 0.02),
    "random_tail_handles": ("<=", 0.10),
    "newcomer_commented_within_3h": (">=", 0.80),
    "newcomer_first_like_minutes_median": ("<=", 30.0),
    "newcomer_bot_comments_mean": ("<=", 5.0),
    "newcomer_bot_comments_max": ("<=", 8.0),
    "newcomer_bot_likes_mean": ("<=", 15.0),
    "people_comments_answered": (">=", 0.80),
    "people_comments_answer_delay_minutes_median": ("<=", 180.0),
    "threads_reaching_3": (">=", 0.10),
}
# Printed per seed beside the targets with ``--seeds``.
DIAGNOSTICS = (
    "posts",
    "likes",
    "people_likes",
    "bot_likes_gini",
    "bot_likes_top10_share",
    "bot_replies",
    "people_comments_unanswered_why",
    "planned_share",
    "planned_missed_why",
    "first_drafts_refused",
    "cost_flags",
)


def _meets(value: float, sense: str, bound: float) -> bool:
    """Whether ``value`` meets a target of ``TARGETS`` (``sense`` ">=" or "<=")."""
    return value >= bound if sense == ">=" else value <= bound


def verdicts(figures: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, (sense, bound) in TARGETS.items():
        value = figures.get(name)
        met = None if value is None else _meets(value, sense, bound)
        out[name] = {"value": value, "target": f"{sense} {bound:g}", "met": met}
    return out


def summarise(runs: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """Several seeds' figures: each target's mean (its verdict), lowest and highest, and
    how many seeds met it. One run varies from the next by about as much as a
    setting moves a figure (the likes' top-10 % share by +-0.03): a verdict on one seed
    says little."""
    out: dict[str, Any] = {}
    for name, (sense, bound) in TARGETS.items():
        values = [f[name] for f in runs.values() if isinstance(f.get(name), int | float)]
        if not values:
            out[name] = {"mean": None, "target": f"{sense} {bound:g}", "met": None}
            continue
        mean = float(np.mean(values))
        met = [_meets(v, sense, bound) for v in values]
        out[name] = {
            "mean": round(mean, 4),
            "lowest": min(values),
            "highest": max(values),
            "target": f"{sense} {bound:g}",
            "met": _meets(mean, sense, bound),
            "met_by_seeds": f"{sum(met)}/{len(met)}",
        }
    return out
