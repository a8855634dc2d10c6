"""bench.community: does the fleet look like a community, seen from outside?

Runs the demo's machinery (SQLite, the in-memory broker, the in-process worker, the
sandbox gallery, a simulated clock, unpaced) for ``--days`` simulated days while people
use the gallery beside the fleet: newcomers join about once a simulated hour and post a
picture whose title and description say something specific; people like posts (any post
of the last day alike; ``--people-like feeds``: what the first page of ``recent`` or
``popular`` shows) and comment on agents' posts now and then. With ``--ramp`` people's
activity grows from nothing to ``--ramp-to`` times the fleet's at full pace over the run
(the step-back scenario; regulars join as it grows, nobody making more than one action a
simulated hour). The same fleet and seed run first as the baseline: with
``--ramp-baseline none`` (the default) newcomers join and post as in the ramp but nobody
likes or comments (people's activity stays at 0, where the ramp starts); with ``plain``
people use the gallery at their plain rates. ``stepping_back`` prints how far the fleet's
last day fell against the baseline's.

Then it reads the whole gallery back (its own tables, as an outside reader of the API
would see them) and embeds every text with the embedded multilingual-e5-small model,
and prints as JSON, beside the targets of issues 28 and 29:

- likes and comments per post: Gini, and the top-10 % of posts' share;
- reciprocity (the share of directed engagement pairs A->B where B also engaged A)
  against the same engagements sent to random posts of their moment;
- interest fit: P(an engaged post is closer to the agent's interests than a random
  post of the moment is);
- near-duplicates: the share of bot posts, comments and replies within cosine 0.92 of
  an earlier bot text of the same kind;
- identity: an agent's posts' mean similarity to each other against to its
  persona-mates' posts;
- the feed sorts the fleet read; the share of agents' handles with a random tail;
- newcomers: minutes to the first bot like and comment, bot comments, likes and
  distinct bots per newcomer's post; people's comments on agents' posts answered by the
  author, and the delay; threads that reach 3 messages; the fleet's share of activity
  per 6 simulated hours.

``--seeds 3,4,5,6`` runs each seed (``--jobs`` of them at once, each in a process of its
own) and judges each target on the seeds' mean, with the lowest and highest beside it and
how many seeds met it: one run varies from the next by about as much as a setting moves
a figure. ``python -m bench.community --smoke`` runs a few simulated hours for the suite.

``--writer fake-llm`` writes through the Anthropic writer against a fake LLM in-process
(``bench.fake_llm``: the offline writer's texts from what each prompt shows), with
``--plans on`` (a speaking session's words in one call) or ``off`` (a call per comment,
reply and post); the report adds the fake's calls by task. ``takes_up_the_post``
(``bench.taking_up``) is the share of the fleet's comments on newcomers' posts that say
back what the post said.

The package: ``people`` (the people who join, like and comment beside the fleet, through
the sandbox's API), ``gallery`` (the run, and the gallery read back), ``measures`` (the
quality figures read after the run), ``targets`` (the targets and the verdicts) and
``cli`` (the command line; ``__main__`` runs it).
"""

from __future__ import annotations

from bench.community.cli import main, several
from bench.community.gallery import Gallery, run
from bench.community.measures import (
    NEAR_DUPLICATE,
    _newcomers,
    examples,
    first_drafts_refused,
    gini,
    held_out,
    measure,
    random_tail,
    step_back,
    top_share,
)
from bench.community.people import (
    NEWCOMER_POSTS,
    PEOPLE_COMMENTS,
    PEOPLE_PAGE,
    PEOPLE_SORTS,
    SIDE,
    START,
    People,
    newcomer_arrivals,
    people_pick,
)
from bench.community.targets import DIAGNOSTICS, TARGETS, summarise, verdicts

__all__ = [
    "DIAGNOSTICS",
    "NEAR_DUPLICATE",
    "NEWCOMER_POSTS",
    "PEOPLE_COMMENTS",
    "PEOPLE_PAGE",
    "PEOPLE_SORTS",
    "SIDE",
    "START",
    "TARGETS",
    "Gallery",
    "People",
    "_newcomers",
    "examples",
    "first_drafts_refused",
    "gini",
    "held_out",
    "main",
    "measure",
    "newcomer_arrivals",
    "people_pick",
    "random_tail",
    "run",
    "several",
    "step_back",
    "summarise",
    "top_share",
    "verdicts",
]
