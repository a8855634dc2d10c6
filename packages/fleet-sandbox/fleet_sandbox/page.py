"""The sandbox's HTML gallery: newest posts first, each with its picture, caption, author
(bot accounts carry a BOT badge), likes and latest comments, ``PAGE_SIZE`` to a page.

Pages go by ``?offset=`` (0 to ``MAX_OFFSET``; anything else is a 400 naming the bounds),
with links to the newer and the older page. Every piece of text from agents goes through
``html.escape``; image sources must be http(s) URLs; a Content-Security-Policy with a
per-response nonce allows only the page's own script and style. Long names and handles
end in an ellipsis inside their card, and the BOT badge always shows. The script
refreshes the first page from ``/fragment`` every few seconds; an older page stays still
while it is read. With ``?probe=1`` it refreshes nothing and instead, once the page has
loaded, writes each image's ``naturalWidth`` into ``data-natural-width``, each card's
box (``data-box``: left, top, right, bottom), how far its content reaches past the card's
edge (``data-overflow-px``), its author row's box (``data-author-box``) and whether its
badge lies inside the card (``data-badge-inside``), and sets ``data-probe="done"`` on
``<body>``: a headless browser's ``--dump-dom`` then shows what really rendered. Caption
markers (``[fleet:...]``) are bookkeeping and are not shown.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from html import escape
from typing import Protocol

from fleet_sandbox import page_follows
from fleet_sandbox.state import MAX_OFFSET
from fleet_sandbox.storage import MARKER, Comment, Post, User
from fleet_sandbox.tables import Disclosure


class Viewing(Protocol):
    """The person signed in on a page (``fleet_sandbox.persons.Viewer``)."""

    @property
    def user(self) -> User: ...

    @property
    def csrf(self) -> str: ...


# Who runs each agent account shown (user id -> its profile line), by the page's reader.
Shown = dict[int, Disclosure]

PAGE_SIZE = 60

_STYLE = """
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
 background:#f1f3f7;color:#1c2230}
header{padding:22px 32px 14px;background:#fff;border-bottom:1px solid #e2e6ee}
header h1{margin:0;font-size:22px;letter-spacing:-.01em}
header p{margin:4px 0 0;color:#667085;font-size:13px}
#gallery{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(270px,100%),1fr));
 gap:20px;padding:24px 32px}
.post{background:#fff;border-radius:14px;overflow:hidden;box-shadow:0 1px 3px rgba(16,24,40,.1);
 min-width:0}
.post img{display:block;width:100%;height:auto;aspect-ratio:1/1;object-fit:cover;background:#e4e7ec}
.noimage{aspect-ratio:1/1;background:#e4e7ec}
.body{padding:12px 14px 14px}
.title{margin:0 0 4px;font-size:16px;overflow-wrap:anywhere}
.caption{margin:0 0 10px;color:#475467;font-size:14px;white-space:pre-line;overflow-wrap:anywhere}
.author{display:flex;align-items:center;gap:6px;font-size:13px;min-width:0}
.avatar{width:24px;height:24px;border-radius:50%;display:inline-flex;align-items:center;
 justify-content:center;color:#fff;font-weight:600;font-size:12px;flex:none}
.c0{background:#6366f1}.c1{background:#0ea5e9}.c2{background:#14b8a6}.c3{background:#f43f5e}
.c4{background:#f59e0b}.c5{background:#8b5cf6}
.name,.handle{min-width:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.name{font-weight:600;flex:0 0 auto;max-width:calc(100% - 112px);min-width:2em}
.handle{color:#667085;flex:0 1 auto;min-width:2.5em}
.badge{font-size:10px;font-weight:700;letter-spacing:.06em;color:#155eef;background:#eff4ff;
 border:1px solid #c7d7fe;border-radius:4px;padding:0 4px;flex:none}
.disclosure{margin:4px 0 0 30px;font-size:12px;color:#155eef}
.disclosure a,.bot-label a{color:#155eef}
.bot-label{font-size:11px;color:#155eef;margin-left:4px}
.people-form{max-width:520px;margin:24px auto;background:#fff;padding:18px;border-radius:12px}
.follows{max-width:520px;margin:0 auto 24px;background:#fff;padding:18px;border-radius:12px}
.follow-lists{display:flex;gap:24px}.follow-lists>div{flex:1;min-width:0}
.follows ul{padding-left:18px;margin:4px 0}
.follows li{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.stats{display:flex;flex-wrap:wrap;gap:4px 14px;margin-top:8px;color:#344054;font-size:13px}
.stats>*{white-space:nowrap}.stats time{margin-left:auto;color:#98a2b3}
.comments{list-style:none;margin:10px 0 0;padding:8px 0 0;border-top:1px solid #eef0f4;
 font-size:13px;color:#475467}
.comments li{margin:2px 0;overflow-wrap:anywhere}.comments li.reply{margin-left:14px;color:#4a5163}
.comments b{color:#1c2230}
.summary{grid-column:1/-1;margin:0;color:#667085;font-size:13px}
.empty{grid-column:1/-1;padding:60px 0;color:#667085}
#gallery.single{display:block;max-width:860px;margin:0 auto}
.single .post{display:grid;grid-template-columns:minmax(0,1.4fr) minmax(0,1fr)}
.single .post img,.single .noimage{width:100%;max-width:none}
.single .title{font-size:22px}.single .caption{font-size:15px}
.single .comments{font-size:14px;max-height:none}
@media (max-width:720px){.single .post{display:block}}
header h1 a{color:inherit;text-decoration:none}
nav.me{display:flex;flex-wrap:wrap;gap:6px 14px;align-items:center;margin-top:8px;font-size:14px}
nav.me a,.linkish{color:#155eef;text-decoration:none}
nav.me form{display:inline;margin:0}
.linkish{background:none;border:0;padding:0;font:inherit;cursor:pointer}
.title a,.author a,.comments b a{color:inherit;text-decoration:none}
.title a:hover,.author a:hover{text-decoration:underline}
.actions{display:flex;gap:10px;align-items:center;margin-top:8px;font-size:13px}
.actions form{margin:0}
.actions button,.comment-box button,.people-form button{font:inherit;border-radius:8px;
 border:1px solid #d0d5dd;background:#fff;padding:4px 12px;cursor:pointer}
.comment-box{margin-top:12px}.comment-box textarea{width:100%;min-height:64px;font:inherit;
 border:1px solid #d0d5dd;border-radius:8px;padding:6px}
.reply-link{margin-left:6px;font-size:12px;color:#155eef}
.problem{color:#b42318}.saved{color:#067647}
.people-form input{font:inherit;border:1px solid #d0d5dd;border-radius:8px;padding:4px 8px}
.about{max-width:720px;margin:24px auto;background:#fff;padding:18px 24px;border-radius:12px}
.pager{grid-column:1/-1;display:flex;gap:12px;justify-content:center;font-size:14px}
.pager a{color:#155eef;background:#fff;border:1px solid #d0d5dd;border-radius:8px;
 padding:6px 14px;text-decoration:none}
"""

_SCRIPT = """
(() => {
  const gallery = () => document.getElementById("gallery");
  if (%(probe)s) {
    const box = (r) => [r.left, r.top, r.right, r.bottom].map(Math.round).join(",");
    const measure = (card) => {
      const edge = card.getBoundingClientRect();
      let past = 0;
      card.querySelectorAll("*").forEach((el) => {
        const r = el.getBoundingClientRect();
        if (r.width || r.height) past = Math.max(past, r.right - edge.right, edge.left - r.left);
      });
      const author = card.querySelector(".author");
      const name = card.querySelector(".author .name");
      if (name) card.dataset.nameClipped = String(name.scrollWidth > name.clientWidth);
      const badge = card.querySelector(".author .badge");
      card.dataset.box = box(edge);
      card.dataset.overflowPx = String(Math.ceil(past));
      if (author) card.dataset.authorBox = box(author.getBoundingClientRect());
      if (badge) {
        const r = badge.getBoundingClientRect();
        card.dataset.badgeInside = String(r.width > 0 && r.left >= edge.left && r.right <= edge.right);
      }
    };
    const report = () => {
      const pictures = [...gallery().querySelectorAll("img")];
      pictures.forEach((img) => { img.dataset.naturalWidth = String(img.naturalWidth); });
      gallery().querySelectorAll("article.post").forEach(measure);
      document.body.dataset.imagesLoaded =
        String(pictures.filter((img) => img.complete && img.naturalWidth > 0).length);
      document.body.dataset.probe = "done";
    };
    if (document.readyState === "complete") report(); else addEventListener("load", report);
    return;
  }
  if (!%(refresh)s) return;
  let last = null;
  setInterval(async () => {
    try {
      const answer = await fetch("/fragment", {cache: "no-store"});
      if (!answer.ok) return;
      const html = await answer.text();
      if (html !== last) { gallery().innerHTML = html; last = html; }
    } catch (error) { /* the sandbox restarted; try again next time */ }
  }, %(refresh_ms)d);
})();
"""


def csp(nonce: str) -> str:
    """The page's Content-Security-Policy: its own nonce'd script and style, images anywhere."""
    return (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
        "img-src 'self' http: https: data:; connect-src 'self'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


def _when(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def disclosure_line(d: Disclosure | None) -> str:
    """An agent's profile line: automated, and its operator with a link."""
    if d is None:
        return '<span class="unlabelled">Automated account (operator not stated)</span>'
    return (
        f"{escape(d.label)} &middot; run by "
        f'<a class="operator" rel="nofollow noopener" href="{escape(d.operator_url)}">'
        f"{escape(d.operator_name)}</a>"
    )


def _author(post_or_comment: Post | Comment, shown: Shown | None = None) -> str:
    user = post_or_comment.user
    shade = hashlib.sha256(user.username.encode()).digest()[0] % 6
    initial = escape((user.name or user.username)[:1].upper())
    badge = '<span class="badge" title="automated account">BOT</span>' if user.is_agent else ""
    return (
        f'<div class="author"><span class="avatar c{shade}">{initial}</span>'
        f'<a class="name" href="/people/{escape(user.username)}" title="{escape(user.name)}">'
        f"{escape(user.name)}</a>"
        f'<span class="handle" title="@{escape(user.username)}">@{escape(user.username)}</span>'
        f"{badge}</div>"
        + (
            f'<div class="disclosure" data-automated="true">'
            f"{disclosure_line((shown or {}).get(user.id))}</div>"
            if user.is_agent
            else ""
        )
    )


def _comment_label(comment: Comment, shown: Shown | None) -> str:
    if not comment.user.is_agent:
        return ""
    return (
        f'<span class="bot-label" data-automated="true">('
        f"{disclosure_line((shown or {}).get(comment.user.id))})</span>"
    )


def _card(
    post: Post,
    talk: list[Comment],
    shown: Shown | None = None,
    *,
    viewer: Viewing | None = None,
    own_page: bool = False,
    replying: int | None = None,
) -> str:
    url = post.image_url
    if url.startswith(("http://", "https://")):
        picture = f'<img src="{escape(url)}" alt="{escape(post.title)}" width="512" height="512">'
    else:
        picture = '<div class="noimage"></div>'
    caption = MARKER.sub("", post.description).strip()
    people = post.like_count - post.agent_like_count
    comments = "".join(
        (
            f'<li class="reply" data-parent="{c.parent_id}" id="comment-{c.id}" '
            f'data-comment-id="{c.id}">&#8627; '
            if c.parent_id is not None
            else f'<li id="comment-{c.id}" data-comment-id="{c.id}">'
        )
        + f'<b><a href="/people/{escape(c.user.username)}">@{escape(c.user.username)}</a></b>'
        + f"{_comment_label(c, shown)} "
        + f"{escape(MARKER.sub('', c.content).strip())}"
        + (
            f'<a class="reply-link" href="/posts/{post.id}?reply={c.id}#comment-box">Reply</a>'
            if own_page
            else ""
        )
        + "</li>"
        for c in talk
    )
    return (
        f'<article class="post" data-post-id="{post.id}">'
        f'<a href="/posts/{post.id}" tabindex="-1">{picture}</a><div class="body">'
        f'<h2 class="title"><a href="/posts/{post.id}">{escape(post.title)}</a></h2>'
        f'<p class="caption">{escape(caption)}</p>{_author(post, shown)}'
        f'<div class="stats"><span class="likes" data-likes="{post.like_count}" '
        f'data-people-likes="{people}" data-agent-likes="{post.agent_like_count}">'
        f"&#9829; {people} from people &middot; {post.agent_like_count} from agents</span>"
        f"{page_follows.reactions(post.reactions)}"
        f'<span class="comment-count" data-comments="{post.comment_count}">'
        f"{post.comment_count} comment{'' if post.comment_count == 1 else 's'}</span>"
        f'<time datetime="{post.created_at.isoformat()}">{_when(post.created_at)}</time></div>'
        f"{f'<ul class=comments>{comments}</ul>' if comments else ''}"
        f"{_actions(post, talk, viewer, replying) if own_page else ''}</div></article>"
    )


def _actions(post: Post, talk: list[Comment], viewer: Viewing | None, replying: int | None) -> str:
    """Under a post on its own page: the like button and the comment box (a reply when
    ``replying`` names one of its comments), for the person signed in; else a link to
    sign in."""
    if viewer is None:
        return (
            '<p class="actions"><a href="/signin">Sign in</a> or <a href="/signup">sign up</a>'
            " to like, comment or reply.</p>"
        )
    token = f'<input type="hidden" name="csrf" value="{escape(viewer.csrf)}">'
    answered = next((c for c in talk if c.id == replying), None)
    parent = (
        f'<input type="hidden" name="parentId" value="{answered.id}">'
        f'<p class="replying">Replying to @{escape(answered.user.username)} '
        f'<a href="/posts/{post.id}#comment-box">(comment instead)</a></p>'
        if answered is not None
        else ""
    )
    label = "Reply" if answered is not None else "Comment"
    return (
        f'<div class="actions"><form method="post" action="/posts/{post.id}/like">{token}'
        '<button type="submit" class="like">&#9829; Like</button></form></div>'
        f'<form class="comment-box" id="comment-box" method="post" '
        f'action="/posts/{post.id}/comment">{token}{parent}'
        f'<label for="content">{label} as @{escape(viewer.user.username)}</label>'
        '<textarea id="content" name="content" maxlength="2000" required></textarea>'
        f'<p><button type="submit">{label}</button></p></form>'
    )


def offset_of(raw: str | None) -> int:
    """The page's offset from its query value; ValueError saying what is allowed."""
    if raw is None:
        return 0
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 10) or int(raw) > MAX_OFFSET:
        raise ValueError(f"offset must be a whole number from 0 to {MAX_OFFSET}")
    return int(raw)


def _pager(offset: int, shown: int, total: int) -> str:
    links = []
    if offset > 0:  # past the end, "newer" is the last page
        last = (total - 1) // PAGE_SIZE * PAGE_SIZE if total else 0
        newer = min(max(0, offset - PAGE_SIZE), last)
        links.append(f'<a class="newer" rel="prev" href="/?offset={newer}">&larr; Newer</a>')
    if offset + shown < total:
        older = offset + PAGE_SIZE
        links.append(f'<a class="older" rel="next" href="/?offset={older}">Older &rarr;</a>')
    return f'<nav class="pager" aria-label="Pages">{"".join(links)}</nav>' if links else ""


def gallery(
    posts: list[Post],
    talk: dict[int, list[Comment]],
    *,
    total: int,
    now: datetime,
    offset: int = 0,
    shown: Shown | None = None,
) -> str:
    """The inner HTML of the gallery: a summary line, one card per post, the page links."""
    span = (
        f"{offset + 1}&ndash;{offset + len(posts)} of "
        if posts and (offset or total > len(posts))
        else ""
    )
    summary = (
        f'<p class="summary" data-total="{total}" data-offset="{offset}">'
        f"{span}{total} post{'' if total == 1 else 's'}"
        f" &middot; updated {now.astimezone(UTC).strftime('%H:%M:%S')} UTC</p>"
    )
    pager = _pager(offset, len(posts), total)
    if not posts:
        empty = (
            "No posts yet. The fleet is warming up." if total == 0 else "No posts this far back."
        )
        return summary + f'<p class="empty">{empty}</p>' + pager
    return summary + "".join(_card(p, talk.get(p.id, []), shown) for p in posts) + pager


def alone(
    post: Post,
    talk: list[Comment],
    shown: Shown | None = None,
    provenance: str = "",
    *,
    viewer: Viewing | None = None,
    replying: int | None = None,
) -> str:
    """The inner HTML of one post's page: the picture large beside its caption, author
    and the whole thread (``document(alone=True)`` lays it out as a page, not a card),
    then a line saying what the picture's provenance marks say (``provenance``)."""
    line = f'<p class="provenance">{escape(provenance)}</p>' if provenance else ""
    card = _card(post, talk, shown, viewer=viewer, own_page=True, replying=replying)
    return card + line


def metadata(shown: Shown, author: Post | None = None) -> str:
    """The page's metadata: who runs the automated accounts it shows (and, on one post's
    page by an agent, its author as automated, with the operator's link)."""
    tags = []
    if author is not None and author.user.is_agent:
        d = shown.get(author.user.id)
        operator = "operator not stated" if d is None else f"run by {d.operator_name}"
        tags.append(
            f'<meta name="author" content="@{escape(author.user.username)} '
            f'(automated account, {escape(operator)})">'
        )
        if d is not None:
            tags.append(f'<link rel="author" href="{escape(d.operator_url)}">')
    for d in {(d.operator_name, d.operator_url): d for d in shown.values()}.values():
        tags.append(
            f'<meta name="automated-accounts" content="{escape(d.label)}; operator: '
            f'{escape(d.operator_name)}; {escape(d.operator_url)}">'
        )
    return "".join(tags)


def document(
    inner: str,
    *,
    refresh_seconds: float,
    probe: bool,
    nonce: str,
    offset: int = 0,
    alone: bool = False,
    meta: str = "",
    viewer: Viewing | None = None,
) -> str:
    """The whole page around the gallery's inner HTML; only the first page refreshes (not
    one post's page, ``alone``). Its header links home and to the page about the
    automated accounts, and lets a person sign in, or shows who is signed in."""
    refresh = offset == 0 and not alone
    script = _SCRIPT % {
        "probe": "true" if probe else "false",
        "refresh": "true" if refresh else "false",
        "refresh_ms": refresh_seconds * 1000,
    }
    layout = ' class="single"' if alone else ""
    freshness = (
        f"refreshes every {refresh_seconds:g} s"
        if refresh
        else '<a href="/">back to the newest</a> (this page does not refresh)'
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>Sandbox gallery</title>{meta}"
        f'<style nonce="{nonce}">{_STYLE}</style></head><body>'
        '<header><h1><a href="/">Sandbox gallery</a></h1>'
        "<p>Newest first &middot; accounts marked BOT are automated (Fleet's simulated "
        "users; each names who runs it) &middot; agents' likes are counted apart &middot; "
        f"{freshness}</p>{_nav(viewer)}</header>"
        f'<main id="gallery"{layout}>{inner}</main>'
        f'<script nonce="{nonce}">{script}</script></body></html>'
    )


def _nav(viewer: Viewing | None) -> str:
    about = '<a href="/about/agents">About these automated accounts</a>'
    if viewer is None:
        return (
            f'<nav class="me">{about}<a href="/signin">Sign in</a>'
            '<a href="/signup">Sign up</a></nav>'
        )
    me = escape(viewer.user.username)
    return (
        f'<nav class="me" data-signed-in="{me}">{about}<span>Signed in as @{me}</span>'
        f'<a href="/people/{me}">My page</a>'
        f'<form method="post" action="/signout"><input type="hidden" name="csrf" '
        f'value="{escape(viewer.csrf)}"><button class="linkish" type="submit">Sign out</button>'
        "</form></nav>"
    )


_CHOICES = (
    ("all", "Agents may engage with me"),
    ("replies", "Agents only answer me when I speak to them"),
    ("none", "No agent engages with me"),
)


def profile(
    user: User,
    *,
    disclosure: Disclosure | None,
    said: str,
    blocked: list[str],
    agents: list[str],
    viewer: Viewing | None = None,
    saved: bool = False,
) -> str:
    """An account's page: an agent's profile line; a person's name, and on their own page
    (signed in as them) their control over agents: how agents may engage with them, an
    agent to block or unblock, a form posting back to this page with their session's
    token. Nobody else sees or changes another person's say."""
    who = f'<h2 class="title">{escape(user.name)} @{escape(user.username)}</h2>'
    if user.is_agent:
        return (
            f'<section class="people-form" data-automated="true">{who}'
            f'<p class="disclosure">{disclosure_line(disclosure)}</p>'
            '<p><a href="/about/agents">About these automated accounts</a></p></section>'
        )
    if viewer is None or viewer.user.id != user.id:
        return (
            f'<section class="people-form" data-person="{escape(user.username)}">{who}'
            "<p>A person on this gallery.</p></section>"
        )
    choices = "".join(
        f'<label><input type="radio" name="agentInteractions" value="{value}"'
        f"{' checked' if value == said else ''}> {text}</label><br>"
        for value, text in _CHOICES
    )
    options = "".join(
        f'<option value="{escape(a)}">@{escape(a)}</option>' for a in agents if a not in blocked
    )
    unblock = "".join(f'<option value="{escape(b)}">@{escape(b)}</option>' for b in blocked)
    listed = "".join(f"<li>@{escape(b)}</li>" for b in blocked) or "<li>none</li>"
    note = '<p class="saved" role="status">Saved.</p>' if saved else ""
    return (
        f'<section class="people-form" data-agent-interactions="{escape(said)}" '
        f'data-own-page="true">{who}{note}'
        f'<form method="post" action="/people/{escape(user.username)}">'
        f'<input type="hidden" name="csrf" value="{escape(viewer.csrf)}">'
        f"<fieldset><legend>Automated accounts</legend>{choices}</fieldset>"
        f'<p><label>Block an agent <select name="block"><option value="">-</option>'
        f"{options}</select></label></p>"
        + (
            f'<p><label>Unblock <select name="unblock"><option value="">-</option>'
            f"{unblock}</select></label></p>"
            if blocked
            else ""
        )
        + '<p><button type="submit">Save</button></p></form>'
        f'<p>Blocked agents:</p><ul class="blocked">{listed}</ul>'
        '<p><a href="/about/agents">What are these automated accounts?</a></p></section>'
    )


def about(operators: list[str], agents: int, *, contact: str = "") -> str:
    """ "About these automated accounts": the page every agent's operator link opens in the
    demo: who runs them, what they do, how to opt out or block one, and a contact."""
    named = ", ".join(escape(o) for o in operators) or "the operator named on each agent's profile"
    reach = (
        f"<p>{escape(contact)}</p>"
        if contact
        else "<p>Ask any of them &ldquo;who runs you?&rdquo; under one of its posts: it "
        "answers truthfully, naming its operator.</p>"
    )
    return (
        '<section class="about" id="about-agents"><h2>About these automated accounts</h2>'
        + (
            "<p>The account marked <b>BOT</b> on this gallery is automated: software writes "
            "its posts, comments and replies, and makes its pictures. It is run by "
            if agents == 1
            else f"<p>The {agents} accounts marked <b>BOT</b> on this gallery are automated: "
            "software writes their posts, comments and replies, and makes their pictures. "
            "They are run by "
        )
        + f'<b class="operator">{named}</b>.</p>'
        "<h3>What they do</h3><ul>"
        "<li>They post generated pictures with captions, like posts, comment, and answer "
        "comments on their own posts, on a human rhythm.</li>"
        "<li>They never claim to be human. Asked what they are, they say so.</li>"
        "<li>Every picture they post carries provenance marks saying it was made by software."
        "</li></ul>"
        "<h3>How to opt out or block one</h3><ol>"
        '<li><a href="/signup">Sign up</a> or <a href="/signin">sign in</a>.</li>'
        "<li>Open <b>My page</b> (top of every page).</li>"
        "<li>Choose <i>No agent engages with me</i> (or <i>Agents only answer me when I "
        "speak to them</i>), or pick an agent to block, and save. Agents honour it within "
        "minutes.</li></ol>"
        f"<h3>Contact</h3>{reach}</section>"
    )


def profile_csp(nonce: str) -> str:
    """A profile page's policy: the page's own (its forms post to the gallery itself)."""
    return csp(nonce)
