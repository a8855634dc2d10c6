"""The sandbox's HTML gallery: newest posts first, each with its picture, caption, author
(bot accounts carry a BOT badge), likes and latest comments.

Every piece of text from agents goes through ``html.escape``; image sources must be
http(s) URLs; a Content-Security-Policy with a per-response nonce allows only the page's
own script and style. The script refreshes the gallery from ``/fragment`` every few
seconds. With ``?probe=1`` it refreshes nothing and instead, once the page has loaded,
writes each image's ``naturalWidth`` into ``data-natural-width`` and sets
``data-probe="done"`` on ``<body>``: a headless browser's ``--dump-dom`` then shows what
really rendered. Caption markers (``[fleet:...]``) are bookkeeping and are not shown.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from html import escape

from fleet.sandbox.storage import MARKER, Comment, Post

_STYLE = """
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
 background:#f1f3f7;color:#1c2230}
header{padding:22px 32px 14px;background:#fff;border-bottom:1px solid #e2e6ee}
header h1{margin:0;font-size:22px;letter-spacing:-.01em}
header p{margin:4px 0 0;color:#667085;font-size:13px}
#gallery{display:grid;grid-template-columns:repeat(auto-fill,minmax(270px,1fr));gap:20px;
 padding:24px 32px}
.post{background:#fff;border-radius:14px;overflow:hidden;box-shadow:0 1px 3px rgba(16,24,40,.1)}
.post img{display:block;width:100%;height:auto;aspect-ratio:1/1;object-fit:cover;background:#e4e7ec}
.noimage{aspect-ratio:1/1;background:#e4e7ec}
.body{padding:12px 14px 14px}
.title{margin:0 0 4px;font-size:16px}
.caption{margin:0 0 10px;color:#475467;font-size:14px;white-space:pre-line}
.author{display:flex;align-items:center;gap:6px;font-size:13px}
.avatar{width:24px;height:24px;border-radius:50%;display:inline-flex;align-items:center;
 justify-content:center;color:#fff;font-weight:600;font-size:12px}
.c0{background:#6366f1}.c1{background:#0ea5e9}.c2{background:#14b8a6}.c3{background:#f43f5e}
.c4{background:#f59e0b}.c5{background:#8b5cf6}
.name{font-weight:600}.handle{color:#667085}
.badge{font-size:10px;font-weight:700;letter-spacing:.06em;color:#155eef;background:#eff4ff;
 border:1px solid #c7d7fe;border-radius:4px;padding:0 4px}
.stats{display:flex;flex-wrap:wrap;gap:4px 14px;margin-top:8px;color:#344054;font-size:13px}
.stats>*{white-space:nowrap}.stats time{margin-left:auto;color:#98a2b3}
.comments{list-style:none;margin:10px 0 0;padding:8px 0 0;border-top:1px solid #eef0f4;
 font-size:13px;color:#475467}
.comments li{margin:2px 0}.comments li.reply{margin-left:14px;color:#4a5163}.comments b{color:#1c2230}
.summary{grid-column:1/-1;margin:0;color:#667085;font-size:13px}
.empty{grid-column:1/-1;padding:60px 0;color:#667085}
"""

_SCRIPT = """
(() => {
  const gallery = () => document.getElementById("gallery");
  if (%(probe)s) {
    const report = () => {
      const pictures = [...gallery().querySelectorAll("img")];
      pictures.forEach((img) => { img.dataset.naturalWidth = String(img.naturalWidth); });
      document.body.dataset.imagesLoaded =
        String(pictures.filter((img) => img.complete && img.naturalWidth > 0).length);
      document.body.dataset.probe = "done";
    };
    if (document.readyState === "complete") report(); else addEventListener("load", report);
    return;
  }
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
        "form-action 'none'"
    )


def _when(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _author(post_or_comment: Post | Comment) -> str:
    user = post_or_comment.user
    shade = hashlib.sha256(user.username.encode()).digest()[0] % 6
    initial = escape((user.name or user.username)[:1].upper())
    badge = '<span class="badge" title="automated account">BOT</span>' if user.is_agent else ""
    return (
        f'<div class="author"><span class="avatar c{shade}">{initial}</span>'
        f'<span class="name">{escape(user.name)}</span>'
        f'<span class="handle">@{escape(user.username)}</span>{badge}</div>'
    )


def _card(post: Post, talk: list[Comment]) -> str:
    url = post.image_url
    if url.startswith(("http://", "https://")):
        picture = f'<img src="{escape(url)}" alt="{escape(post.title)}" width="512" height="512">'
    else:
        picture = '<div class="noimage"></div>'
    caption = MARKER.sub("", post.description).strip()
    comments = "".join(
        (
            f'<li class="reply" data-parent="{c.parent_id}">&#8627; '
            if c.parent_id is not None
            else "<li>"
        )
        + f"<b>@{escape(c.user.username)}</b> {escape(MARKER.sub('', c.content).strip())}</li>"
        for c in talk
    )
    return (
        f'<article class="post" data-post-id="{post.id}">{picture}<div class="body">'
        f'<h2 class="title">{escape(post.title)}</h2>'
        f'<p class="caption">{escape(caption)}</p>{_author(post)}'
        f'<div class="stats"><span class="likes" data-likes="{post.like_count}">'
        f"&#9829; {post.like_count}</span>"
        f'<span class="comment-count" data-comments="{post.comment_count}">'
        f"{post.comment_count} comment{'' if post.comment_count == 1 else 's'}</span>"
        f'<time datetime="{post.created_at.isoformat()}">{_when(post.created_at)}</time></div>'
        f"{f'<ul class=comments>{comments}</ul>' if comments else ''}</div></article>"
    )


def gallery(posts: list[Post], talk: dict[int, list[Comment]], *, total: int, now: datetime) -> str:
    """The inner HTML of the gallery: a summary line and one card per post."""
    summary = (
        f'<p class="summary" data-total="{total}">{total} post{"" if total == 1 else "s"}'
        f" &middot; updated {now.astimezone(UTC).strftime('%H:%M:%S')} UTC</p>"
    )
    if not posts:
        return summary + '<p class="empty">No posts yet. The fleet is warming up.</p>'
    return summary + "".join(_card(p, talk.get(p.id, [])) for p in posts)


def document(inner: str, *, refresh_seconds: float, probe: bool, nonce: str) -> str:
    """The whole page around the gallery's inner HTML."""
    script = _SCRIPT % {"probe": "true" if probe else "false", "refresh_ms": refresh_seconds * 1000}
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        "<title>Sandbox gallery</title>"
        f'<style nonce="{nonce}">{_STYLE}</style></head><body>'
        "<header><h1>Sandbox gallery</h1>"
        "<p>Newest first &middot; accounts marked BOT are Fleet's simulated users &middot; "
        f"refreshes every {refresh_seconds:g} s</p></header>"
        f'<main id="gallery">{inner}</main>'
        f'<script nonce="{nonce}">{script}</script></body></html>'
    )
