"""bench.community.measures: the quality figures read from the gallery after a run.

Likes and comments per post (Gini, top-10 % share), reciprocity, interest fit,
near-duplicates, identity, handles, newcomers' welcome, conversations, the fleet's share
of activity, plans; the stepping-back comparison and the examples quoted.
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import numpy as np

from bench.community.gallery import Gallery
from fleet.content.guard.guard import unaddressed
from fleet.embeddings.local import LocalEmbedder

NEAR_DUPLICATE = 0.92


def gini(values: list[int]) -> float:
    if not values or sum(values) == 0:
        return 0.0
    ordered = np.sort(np.asarray(values, dtype=float))
    n = len(ordered)
    ranks = np.arange(1, n + 1)
    return float((2 * np.sum(ranks * ordered)) / (n * np.sum(ordered)) - (n + 1) / n)


def top_share(values: list[int], share: float = 0.1) -> float:
    if not values or sum(values) == 0:
        return 0.0
    ordered = sorted(values, reverse=True)
    top = max(1, round(len(ordered) * share))
    return sum(ordered[:top]) / sum(ordered)


def _text(post: Any) -> str:
    return f"{post.title}. {post.description}".strip()


NOISE = re.compile(r"\d[a-z]|[a-z]\d[a-z]")


def random_tail(handle: str) -> bool:
    """A last segment no person would choose: base-36 noise, as in
    ``gamedev_luckyslime_52humr`` (digits among letters), or five letters or more with
    at most one vowel (``laqsmm``, ``lctxps``; a word like ``glitch`` is counted too)."""
    last = handle.rsplit("_", 1)[-1].lower().rstrip("0123456789")
    vowels = sum(ch in "aeiouy" for ch in last)
    return bool(NOISE.search(last)) or (len(last) >= 5 and vowels <= 1)


def engagement(gallery: Gallery, rng: random.Random) -> dict[str, Any]:
    """The figures of likes and comments per post, and the reciprocity of engagement
    against the same engagements sent to random posts of their moment (no vectors)."""
    users = gallery.users
    bots = {uid for uid, u in users.items() if u.is_agent}
    posts = gallery.posts
    by_post = {p.id: p for p in posts}
    likes_per = Counter(like.post_id for like in gallery.likes)
    comments_per = Counter(c.post_id for c in gallery.comments if c.parent_id is None)
    like_counts = [likes_per.get(p.id, 0) for p in posts]
    bot_likes_per = Counter(like.post_id for like in gallery.likes if like.user_id in bots)
    bot_like_counts = [bot_likes_per.get(p.id, 0) for p in posts]
    comment_counts = [comments_per.get(p.id, 0) for p in posts]
    out: dict[str, Any] = {
        "posts": len(posts),
        "bot_posts": sum(1 for p in posts if p.user_id in bots),
        "likes": len(gallery.likes),
        "comments": len(gallery.comments),
        "likes_gini": round(gini(like_counts), 3),
        "likes_top10_share": round(top_share(like_counts), 3),
        # Diagnostic: the fleet's likes alone (the bench's people like at random).
        "bot_likes_gini": round(gini(bot_like_counts), 3),
        "bot_likes_top10_share": round(top_share(bot_like_counts), 3),
        "people_likes": sum(1 for like in gallery.likes if like.user_id not in bots),
        "comments_gini": round(gini(comment_counts), 3),
        "comments_top10_share": round(top_share(comment_counts), 3),
    }

    # Engagements: (who, post, when), likes and top-level comments.
    engagements = [(like.user_id, like.post_id, like.created_at) for like in gallery.likes] + [
        (c.user_id, c.post_id, c.created_at) for c in gallery.comments if c.parent_id is None
    ]
    created = sorted((p.created_at, p.id) for p in posts)

    def open_at(when: datetime, me: int) -> list[int]:
        return [pid for at, pid in created if at <= when and by_post[pid].user_id != me]

    def reciprocity(pairs: list[tuple[int, int]]) -> float:
        directed = {(a, b) for a, b in pairs if a != b}
        if not directed:
            return 0.0
        return sum(1 for a, b in directed if (b, a) in directed) / len(directed)

    actual = [(who, by_post[pid].user_id) for who, pid, _ in engagements if pid in by_post]
    baselines = []
    for _ in range(3):
        shuffled = []
        for who, _pid, when in engagements:
            choices = open_at(when, who)
            if choices:
                shuffled.append((who, by_post[rng.choice(choices)].user_id))
        baselines.append(reciprocity(shuffled))
    base = float(np.mean(baselines)) if baselines else 0.0
    out["reciprocity"] = round(reciprocity(actual), 3)
    out["reciprocity_random_baseline"] = round(base, 3)
    out["reciprocity_ratio"] = round(out["reciprocity"] / base, 2) if base else None
    return out


def measure(gallery: Gallery, embedder: LocalEmbedder, rng: random.Random) -> dict[str, Any]:
    users = gallery.users
    bots = {uid for uid, u in users.items() if u.is_agent}
    posts = gallery.posts
    by_post = {p.id: p for p in posts}
    engagements = [(like.user_id, like.post_id, like.created_at) for like in gallery.likes] + [
        (c.user_id, c.post_id, c.created_at) for c in gallery.comments if c.parent_id is None
    ]
    created = sorted((p.created_at, p.id) for p in posts)

    def open_at(when: datetime, me: int) -> list[int]:
        return [pid for at, pid in created if at <= when and by_post[pid].user_id != me]

    out = engagement(gallery, rng)

    # Vectors: every post's text; each persona's interests as a query.
    post_vectors = dict(
        zip(
            [p.id for p in posts],
            embedder.embed([_text(p) for p in posts]) if posts else [],
            strict=True,
        )
    )
    slugs = sorted(gallery.interests)
    interest_vectors = dict(
        zip(
            slugs,
            embedder.embed([gallery.interests[s] for s in slugs], purpose="query"),
            strict=True,
        )
    )
    wins = []
    # Diagnostics: the fit of likes and comments, on agents' and on people's posts.
    parts: dict[str, list[float]] = defaultdict(list)
    kinds = ["like"] * len(gallery.likes) + ["comment"] * (len(engagements) - len(gallery.likes))
    for (who, pid, when), kind in zip(engagements, kinds, strict=True):
        if who not in bots or pid not in post_vectors:
            continue
        persona = users[who].persona
        if persona not in interest_vectors:
            continue
        choices = open_at(when, who)
        if not choices:
            continue
        other = rng.choice(choices)
        me = interest_vectors[persona]
        engaged = float(post_vectors[pid] @ me)
        random_one = float(post_vectors[other] @ me)
        wins.append(1.0 if engaged > random_one else 0.5 if engaged == random_one else 0.0)
        whose = "bots" if by_post[pid].user_id in bots else "people"
        parts[f"interest_fit_p_{kind}s_on_{whose}_posts"].append(wins[-1])
    out["interest_fit_p"] = round(float(np.mean(wins)), 3) if wins else None
    for name, values in sorted(parts.items()):
        out[name] = {"p": round(float(np.mean(values)), 3), "n": len(values)}

    # Near-duplicates among bot texts of each kind, in the order they were written.
    def near_duplicates(texts: list[str]) -> float | None:
        if len(texts) < 2:
            return None
        matrix = np.stack(embedder.embed(texts))
        similar = matrix @ matrix.T
        hits = sum(1 for i in range(1, len(texts)) if float(similar[i, :i].max()) >= NEAR_DUPLICATE)
        return round(hits / len(texts), 3)

    bot_posts = [p for p in posts if p.user_id in bots]
    out["near_duplicate_posts"] = near_duplicates([_text(p) for p in bot_posts])
    out["near_duplicate_comments"] = near_duplicates(
        [c.content for c in gallery.comments if c.user_id in bots and c.parent_id is None]
    )
    bot_replies = [
        c.content for c in gallery.comments if c.user_id in bots and c.parent_id is not None
    ]
    out["near_duplicate_replies"] = near_duplicates(bot_replies)
    out["bot_replies"] = len(bot_replies)
    # The same words twice, whoever they answer: "@a fair enough" and "@b fair enough".
    bodies = [" ".join(unaddressed(text).lower().split()) for text in bot_replies]
    out["exact_repeat_replies"] = len(bodies) - len(set(bodies))

    # Identity: an agent's posts against each other and against its persona-mates'.
    mine: dict[int, list[Any]] = defaultdict(list)
    for p in bot_posts:
        mine[p.user_id].append(post_vectors[p.id])
    own_scores, mate_scores = [], []
    for uid, vectors in mine.items():
        if len(vectors) < 2:
            continue
        persona = users[uid].persona
        mates = [
            v
            for other, vs in mine.items()
            if other != uid and users[other].persona == persona
            for v in vs
        ]
        if not mates:
            continue
        own = np.stack(vectors)
        pair = own @ own.T
        n = len(vectors)
        own_scores.append(float((pair.sum() - np.trace(pair)) / (n * (n - 1))))
        mate_scores.append(float((own @ np.stack(mates).T).mean()))
    if own_scores:
        out["identity_own_similarity"] = round(float(np.mean(own_scores)), 4)
        out["identity_mates_similarity"] = round(float(np.mean(mate_scores)), 4)
        out["identity_margin"] = round(
            out["identity_own_similarity"] - out["identity_mates_similarity"], 4
        )
    else:
        out["identity_margin"] = None

    handles = [u.username for uid, u in users.items() if uid in bots]
    out["random_tail_handles"] = (
        round(sum(map(random_tail, handles)) / len(handles), 3) if handles else None
    )
    out["handles_sample"] = sorted(handles)[:: max(1, len(handles) // 8)][:8]
    out["feed_sorts_read"] = gallery.feed_sorts

    out.update(_newcomers(gallery, bots, by_post))
    out.update(held_out(gallery, bots))
    out.update(_conversations(gallery, bots, by_post))
    out["fleet_share_by_6h"] = _shares(gallery, bots)
    # Of the comments, replies and posts made, the share whose words came from their
    # session's plan (issue 53; 0 with the offline writer, which makes no plans).
    made = [a for a in gallery.actions if a.status == "succeeded"]
    out["planned_share"] = {
        kind: round(sum(a.planned for a in done) / len(done), 3) if done else None
        for kind in ("comment", "reply", "post")
        for done in [[a for a in made if a.action == kind]]
    }
    # Why the others wrote their own words, counted by reason.
    out["planned_missed_why"] = {
        kind: dict(Counter(a.missed for a in made if a.action == kind and a.missed).most_common())
        for kind in ("comment", "reply", "post")
    }
    out["first_drafts_refused"] = first_drafts_refused(gallery.actions)
    out["cost_flags"] = cost_flags(made, out["first_drafts_refused"])
    return out


# A miss that is the guard's refusal of a planned text, not the plan's structure.
_REFUSALS = ("the guard refused the planned text", "the plan's post refused")


def cost_flags(made: Sequence[SimpleNamespace], refused: Mapping[str, Any]) -> dict[str, str]:
    """This run's shares as ``bench.cost`` takes them: ``--plan-miss``, the texts whose
    plan had no text for them (the structural misses: every miss but the guard's
    refusals); ``--plan-refused``, the planned texts offered that the guard refused (a
    post's: its refused share of the posts the plan wrote for); ``--own-refused``, the
    own first drafts refused (of a ``--plans off`` run, for the before-plans side)."""
    miss, no, own = [], [], []
    for kind in ("comment", "reply", "post"):
        done = [a for a in made if a.action == kind]
        structural = [a for a in done if a.missed and not a.missed.startswith(_REFUSALS)]
        miss.append(f"{kind}={_share(len(structural), len(done)) or 0}")
        if kind == "post":
            offered = [a for a in done if a.planned or a.missed == _REFUSALS[1]]
            share = _share(sum(a.missed == _REFUSALS[1] for a in offered), len(offered))
        else:
            share = refused[kind]["planned_refused"]
        no.append(f"{kind}={share or 0}")
        if kind != "post":
            own.append(f"{kind}={refused[kind]['own_first_refused'] or 0}")
    return {"plan_miss": ",".join(miss), "plan_refused": ",".join(no), "own_refused": ",".join(own)}


def first_drafts_refused(actions: Sequence[SimpleNamespace]) -> dict[str, Any]:
    """How often the guard refuses a first draft, planned or the action's own: of the
    planned texts a comment or reply was offered, the share refused (``plan_refused``);
    of the comments and replies that wrote their own from the start (no planned text, no
    plan's call on their activity), the share whose first draft was refused (a second
    call, or skipped by the guard). A plan is not worse than the own call when the first
    is not above the second: a refusal costs one more call either way."""
    out: dict[str, Any] = {}
    for kind in ("comment", "reply"):
        mine = [a for a in actions if a.action == kind]
        offered = [a for a in mine if a.planned or a.plan_refused]
        # Those that wrote: a call paid (succeeded or skipped after), or the guard's skip.
        own = [a for a in mine if a.own_from_start and (a.calls >= 1 or a.guard_skipped)]
        refused_own = [a for a in own if a.calls >= 2 or a.guard_skipped]
        out[kind] = {
            "planned_offered": len(offered),
            "planned_refused": _share(sum(bool(a.plan_refused) for a in offered), len(offered)),
            "own_first_drafts": len(own),
            "own_first_refused": _share(len(refused_own), len(own)),
        }
    return out


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def held_out(gallery: Gallery, bots: set[int]) -> dict[str, Any]:
    """The newcomers the impact holdout keeps from the fleet, and the agents' likes,
    comments and replies that reached them anyway, counted from the gallery (0 is right)."""
    posts = set(gallery.held_out_posts)
    authors = {p.id: p.user_id for p in gallery.posts}
    people = {authors[pid] for pid in posts if pid in authors}
    by_comment = {c.id: c.user_id for c in gallery.comments}
    return {
        "newcomer_posts_held_out": len(posts),
        "agent_actions_toward_held_out": sum(
            1
            for like in gallery.likes
            if like.user_id in bots and authors.get(like.post_id) in people
        )
        + sum(
            1
            for c in gallery.comments
            if c.user_id in bots
            and (
                authors.get(c.post_id) in people
                or (c.parent_id is not None and by_comment.get(c.parent_id) in people)
            )
        ),
    }


def _minutes(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 60


def _newcomers(gallery: Gallery, bots: set[int], by_post: dict[int, Any]) -> dict[str, Any]:
    rows = []
    for pid in gallery.newcomer_posts:
        post = by_post.get(pid)
        if post is None:
            continue
        likes = sorted(
            like.created_at
            for like in gallery.likes
            if like.post_id == pid and like.user_id in bots
        )
        comments = [c for c in gallery.comments if c.post_id == pid and c.user_id in bots]
        first_comment = min((c.created_at for c in comments), default=None)
        rows.append(
            {
                "first_like_minutes": _minutes(likes[0], post.created_at) if likes else None,
                "first_comment_minutes": _minutes(first_comment, post.created_at)
                if first_comment
                else None,
                "bot_comments": len(comments),
                "bot_likes": len(likes),
                "distinct_bots": len(
                    {c.user_id for c in comments}
                    | {
                        like.user_id
                        for like in gallery.likes
                        if like.post_id == pid and like.user_id in bots
                    }
                ),
                "age_hours": (gallery.end - post.created_at).total_seconds() / 3600,
                "posted_at": post.created_at.strftime("%a %H:%M UTC"),
            }
        )
    if not rows:
        return {"newcomer_posts": 0}
    grown = [r for r in rows if r["age_hours"] >= 3]
    likes_at = [r["first_like_minutes"] for r in rows if r["first_like_minutes"] is not None]
    return {
        "newcomer_posts": len(rows),
        "newcomer_commented_within_3h": round(
            sum(
                1
                for r in grown
                if r["first_comment_minutes"] is not None and r["first_comment_minutes"] <= 180
            )
            / len(grown),
            3,
        )
        if grown
        else None,
        "newcomer_first_like_minutes_median": round(float(np.median(likes_at)), 1)
        if likes_at
        else None,
        "newcomer_first_comment_minutes_median": round(
            float(
                np.median(
                    [
                        r["first_comment_minutes"]
                        for r in rows
                        if r["first_comment_minutes"] is not None
                    ]
                    or [np.nan]
                )
            ),
            1,
        ),
        "newcomer_bot_comments_mean": round(float(np.mean([r["bot_comments"] for r in rows])), 2),
        "newcomer_bot_comments_max": max(r["bot_comments"] for r in rows),
        "newcomer_bot_likes_mean": round(float(np.mean([r["bot_likes"] for r in rows])), 2),
        "newcomer_distinct_bots_mean": round(float(np.mean([r["distinct_bots"] for r in rows])), 2),
        "per_newcomer_post": [
            {
                key: round(value, 1) if isinstance(value, float) else value
                for key, value in r.items()
            }
            for r in rows
        ],
    }


def _conversations(gallery: Gallery, bots: set[int], by_post: dict[int, Any]) -> dict[str, Any]:
    children: dict[int, list[Any]] = defaultdict(list)
    for c in gallery.comments:
        if c.parent_id is not None:
            children[c.parent_id].append(c)
    answered, delays = 0, []
    asked = 0
    # Diagnostic: of those left unanswered, how many authors were seen on the gallery
    # afterwards (a post, a like or a comment of theirs later on).
    seen_at: dict[int, list[datetime]] = defaultdict(list)
    for item in [*gallery.posts, *gallery.likes, *gallery.comments]:
        seen_at[item.user_id].append(item.created_at)
    unanswered, came_back = 0, 0
    why: Counter[str] = Counter()
    actions_of: dict[str, list[Any]] = defaultdict(list)
    for action in gallery.actions:
        actions_of[action.handle].append(action)
    for c in gallery.comments:
        post = by_post.get(c.post_id)
        if post is None or c.user_id in bots or post.user_id not in bots:
            continue
        if (gallery.end - c.created_at) < timedelta(hours=3):
            continue  # too young to hold against the fleet
        asked += 1
        replies = [r for r in children.get(c.id, []) if r.user_id == post.user_id]
        if replies:
            answered += 1
            delays.append(_minutes(min(r.created_at for r in replies), c.created_at))
        else:
            unanswered += 1
            came_back += any(at > c.created_at for at in seen_at[post.user_id])
            why[_why_unanswered(actions_of[gallery.users[post.user_id].username], c)] += 1

    def size(comment: Any) -> int:
        return 1 + sum(size(child) for child in children.get(comment.id, []))

    def depth(comment: Any) -> int:
        return 1 + max((depth(child) for child in children.get(comment.id, [])), default=0)

    tops = [c for c in gallery.comments if c.parent_id is None]
    conversations = [c for c in tops if children.get(c.id)]
    return {
        "people_comments_on_agents_posts": asked,
        "people_comments_answered": round(answered / asked, 3) if asked else None,
        "people_comments_answer_delay_minutes_median": round(float(np.median(delays)), 1)
        if delays
        else None,
        "people_comments_unanswered_author_seen_after": round(came_back / unanswered, 3)
        if unanswered
        else None,
        "people_comments_unanswered_why": dict(why.most_common()),
        "threads": len(conversations),
        "threads_reaching_3": round(
            sum(1 for c in conversations if depth(c) >= 3) / len(conversations), 3
        )
        if conversations
        else None,
        "top_level_comments_reaching_3": round(sum(1 for c in tops if size(c) >= 3) / len(tops), 3)
        if tops
        else None,
    }


def _why_unanswered(authors_actions: list[Any], comment: Any) -> str:
    """What the author agent did after a person's comment it left unanswered."""
    after = [a for a in authors_actions if a.due_at > comment.created_at]
    if not after:
        return "no action after"
    replies = [a for a in after if a.action == "reply"]
    if not replies:
        turned = Counter[str](a.turned[:40] for a in after if a.turned)
        if turned:
            return "reply turned: " + turned.most_common(1)[0][0]
        return f"no reply decided ({len(after)} actions after)"
    answered = [a for a in replies if a.status == "succeeded"]
    if answered:
        return f"answered others ({len(answered)})"
    return "reply " + Counter(f"{a.status}: {a.error}" for a in replies).most_common(1)[0][0]


def _shares(gallery: Gallery, bots: set[int]) -> list[dict[str, Any]]:
    window = timedelta(hours=6)
    moments = (
        [(p.created_at, p.user_id) for p in gallery.posts]
        + [(like.created_at, like.user_id) for like in gallery.likes]
        + [(c.created_at, c.user_id) for c in gallery.comments]
    )
    out = []
    at = gallery.start
    while at < gallery.end:
        inside = [uid for when, uid in moments if at <= when < at + window]
        fleet = sum(1 for uid in inside if uid in bots)
        out.append(
            {
                "from": at.isoformat(),
                "fleet_actions": fleet,
                "people_actions": len(inside) - fleet,
                "fleet_share": round(fleet / len(inside), 3) if inside else None,
            }
        )
        at += window
    return out


def _last_day(gallery: Gallery) -> tuple[int, int]:
    """The fleet's and people's visible actions (posts, likes, comments) in the run's
    last simulated day."""
    fleet, people = _last_day_by_kind(gallery)
    return sum(fleet.values()), sum(people.values())


def _last_day_by_kind(gallery: Gallery) -> tuple[Counter[str], Counter[str]]:
    """The fleet's and people's posts, likes, comments and replies in the last day."""
    since = gallery.end - timedelta(days=1)
    bots = {uid for uid, u in gallery.users.items() if u.is_agent}
    moments = [
        *((p.created_at, p.user_id, "post") for p in gallery.posts),
        *((like.created_at, like.user_id, "like") for like in gallery.likes),
        *(
            (c.created_at, c.user_id, "comment" if c.parent_id is None else "reply")
            for c in gallery.comments
        ),
    ]
    fleet: Counter[str] = Counter()
    people: Counter[str] = Counter()
    for when, uid, kind in moments:
        if when >= since:
            (fleet if uid in bots else people)[kind] += 1
    return fleet, people


def _paces(gallery: Gallery) -> list[float]:
    """The mean pace in force over each 6 simulated hours of the run."""
    out = []
    at = gallery.start
    while at < gallery.end:
        inside = [pace for when, pace in gallery.paces if at <= when < at + timedelta(hours=6)]
        out.append(round(sum(inside) / len(inside), 3) if inside else 1.0)
        at += timedelta(hours=6)
    return out


def step_back(baseline: Gallery, ramped: Gallery, *, kind: str) -> dict[str, Any]:
    """The fleet's last day in the baseline run against with people grown."""
    fleet_base, people_base = _last_day(baseline)
    fleet_ramped, people_ramped = _last_day(ramped)
    return {
        "baseline": kind,
        "last_day_fleet_actions_baseline": fleet_base,
        "last_day_people_actions_baseline": people_base,
        "last_day_fleet_actions_ramped": fleet_ramped,
        "last_day_people_actions_ramped": people_ramped,
        "people_to_fleet_baseline_ratio": round(people_ramped / fleet_base, 2)
        if fleet_base
        else None,
        "fleet_fall": round(1 - fleet_ramped / fleet_base, 3) if fleet_base else None,
        "target": ">= 0.5",
        "last_day_fleet_by_kind_baseline": dict(_last_day_by_kind(baseline)[0]),
        "last_day_fleet_by_kind_ramped": dict(_last_day_by_kind(ramped)[0]),
        "pace_by_6h_baseline": _paces(baseline),
        "pace_by_6h_ramped": _paces(ramped),
    }


def examples(gallery: Gallery, *, newcomer_posts: int = 2) -> dict[str, Any]:
    """What a reader of the closing note should see quoted: the first newcomer posts
    with every bot comment and reply under them, and the longest thread."""
    users = gallery.users
    bots = {uid for uid, u in users.items() if u.is_agent}
    by_post = {p.id: p for p in gallery.posts}
    by_id = {c.id: c for c in gallery.comments}

    def said(c: Any) -> str:
        who = users[c.user_id].username + (" (bot)" if c.user_id in bots else "")
        minutes = _minutes(c.created_at, by_post[c.post_id].created_at)
        return f"+{minutes:.0f} min {who}: {c.content}"

    welcomed = []
    for post_id in gallery.newcomer_posts[:newcomer_posts]:
        post = by_post[post_id]
        under = [c for c in gallery.comments if c.post_id == post_id]
        welcomed.append(
            {
                "title": post.title,
                "description": post.description,
                "comments": [said(c) for c in sorted(under, key=lambda c: c.created_at)],
            }
        )

    def chain(c: Any) -> list[Any]:
        line = [c]
        while line[-1].parent_id is not None and line[-1].parent_id in by_id:
            line.append(by_id[line[-1].parent_id])
        return line[::-1]

    longest = max((chain(c) for c in gallery.comments), key=len, default=[])
    thread = {}
    if longest:
        post = by_post[longest[0].post_id]
        thread = {
            "post": f"{post.title} (by {users[post.user_id].username})",
            "messages": [said(c) for c in longest],
        }
    # One bot reply to each different thing people said (issue 54: each answers it).
    answered: dict[str, str] = {}
    for c in gallery.comments:
        parent = by_id.get(c.parent_id) if c.parent_id is not None else None
        if parent is None or c.user_id not in bots or parent.user_id in bots:
            continue
        answered.setdefault(parent.content, said(c))
    return {
        "newcomer_posts": welcomed,
        "longest_thread": thread,
        "replies_to_people": [{"said": k, "reply": v} for k, v in answered.items()],
    }
