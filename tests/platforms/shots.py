"""Screenshots of an agent on the servers' own web pages, for a person to look at.

    python -m tests.platforms.shots OUTDIR

Starts Takahē and GoToSocial (``tests.platforms.servers``), sets up one agent's account
through ``MastodonGallery`` (the bot flag, the note naming the operator, the field
"Operated by"), posts one image Fleet made, marked and signed (on Takahē, stripped:
the post carries the text disclosure), and has headless Chromium (Debian's) screenshot
the post's page and the profile on each server: ``takahe-post.png``,
``takahe-profile.png``, ``gotosocial-post.png``, ``gotosocial-profile.png``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from pydantic import AnyUrl

from fleet.content.images import build_image_source
from fleet.gallery.mastodon import MastodonGallery, media_of
from fleet.settings import DisclosureSettings, GallerySettings, Settings
from tests.platforms.conftest import Tokens
from tests.platforms.servers import running_gotosocial, running_takahe

AGENT = "fleet_iris"
OPERATOR = DisclosureSettings(
    operator_name="Fleet demo operator", operator_url=AnyUrl("https://operator.example/agents")
)


def chromium(url: str, out: Path, *, host_rule: str = "") -> None:
    browser = shutil.which("chromium") or "/usr/bin/chromium"
    with tempfile.TemporaryDirectory() as profile:
        command = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--window-size=1280,1300",
            "--virtual-time-budget=6000",
            "--hide-scrollbars",
            f"--screenshot={out}",
            *([f"--host-resolver-rules={host_rule}"] if host_rule else []),
            url,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0 or not out.exists():
        raise RuntimeError(f"chromium failed on {url}: {done.stderr[-1500:]}")


def _post(server: Any, workdir: Path) -> tuple[MastodonGallery, str]:
    settings = Settings(
        gallery=GallerySettings(kind="mastodon", url=AnyUrl(server.url), timeout_seconds=30),
        images={"directory": workdir / "images"},  # type: ignore[arg-type]
        disclosure=OPERATOR,
        redis_url=None,
    )
    tokens = Tokens(server.accounts([AGENT]))
    images = build_image_source(settings, handle_of=lambda _: AGENT)
    gallery = MastodonGallery(
        settings.gallery,
        tokens,
        images,
        disclosure=OPERATOR,
        provenance=settings.provenance,
    )
    gallery.provision_user(handle=AGENT, name="Iris (automated)", persona="p")
    image = gallery.generate_image(
        agent=AGENT,
        prompt="a lighthouse at dusk, pixel art",
        style="pixel art",
        persona="p",
        idempotency_key="1:manual-shots:post:image",
    )
    assert media_of(image)
    post = gallery.create_post(
        agent=AGENT,
        image_url=image,
        title="Lighthouse at dusk",
        description="A small pixel-art lighthouse on a cliff, its beam crossing a purple sky.",
        idempotency_key="1:manual-shots:post",
    )
    return gallery, post.id


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        with running_takahe() as takahe:
            gallery, post_id = _post(takahe, Path(tmp) / "t")
            gallery.close()
            port = takahe.url.rsplit(":", 1)[1]
            rule = f"MAP {takahe.host} 127.0.0.1:{port}"
            base = f"http://{takahe.host}"
            chromium(f"{base}/@{AGENT}@{takahe.host}/", out / "takahe-profile.png", host_rule=rule)
            chromium(
                f"{base}/@{AGENT}@{takahe.host}/posts/{post_id}/",
                out / "takahe-post.png",
                host_rule=rule,
            )
        with running_gotosocial() as gts:
            gallery, post_id = _post(gts, Path(tmp) / "g")
            gallery.close()
            chromium(f"{gts.url}/@{AGENT}", out / "gotosocial-profile.png")
            chromium(f"{gts.url}/@{AGENT}/statuses/{post_id}", out / "gotosocial-post.png")
    print("\n".join(str(p) for p in sorted(out.glob("*.png"))))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "artifacts/platform-shots"))
