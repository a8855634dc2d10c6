"""Provenance on a demo's published images, read back from outside.

Runs ``fleet demo`` in process (``--agents`` agents over a simulated day by default),
then fetches every image an agent published over HTTP, as any visitor would, and reads
it with two tools Fleet did not write: ``exiftool`` (the XMP digital source type) and
``c2pa-python``'s reader (a manifest whose claim signature and data hash are valid).
``--strip`` turns on the sandbox's ``strip_provenance`` fault first: nothing unmarked may
be published. Prints JSON. Run: python -m bench.provenance_demo --agents 72
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import sqlite3
import subprocess
import tempfile
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import httpx


def _c2pa_valid(image: bytes) -> bool:
    import c2pa

    try:
        with c2pa.Reader("image/png", io.BytesIO(image)) as reader:
            results = reader.get_validation_results() or {}
    except c2pa.C2paError:
        return False
    active = results.get("activeManifest") or {}
    passed = {item.get("code") for item in active.get("success") or []}
    failed = {item.get("code") for item in active.get("failure") or []}
    needed = {"claimSignature.validated", "assertion.dataHash.match"}
    return needed <= passed and failed <= {"signingCredential.untrusted"}


def _exiftool_types(folder: Path) -> dict[str, str] | None:
    if shutil.which("exiftool") is None:
        return None
    read = subprocess.run(
        ["exiftool", "-j", "-XMP-iptcExt:DigitalSourceType", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    rows: list[dict[str, Any]] = json.loads(read.stdout or "[]")
    return {Path(r["SourceFile"]).name: str(r.get("DigitalSourceType", "")) for r in rows}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=72)
    parser.add_argument("--hours", type=float, default=24.0, help="simulated hours")
    parser.add_argument("--strip", action="store_true", help="the gallery strips the marks")
    args = parser.parse_args()
    from fleet.demo.run import TOKEN, Demo, DemoOptions

    # The demo's default speed: its duration in real seconds is the simulated day / 720.
    options = DemoOptions(agents=args.agents, duration=args.hours * 3600 / 720)
    with tempfile.TemporaryDirectory(prefix="bench-provenance-") as tmp:
        demo = Demo(options, Path(tmp))
        try:
            demo.prepare()
            if args.strip:
                httpx.put(
                    f"{demo.sandbox.url}/admin/faults",
                    json={"stripProvenance": True},
                    headers={"Authorization": f"Bearer {TOKEN}"},
                ).raise_for_status()
            demo.run(lambda d: None, threading.Event())
            summary = demo.summary()
            with sqlite3.connect(Path(tmp) / "gallery.db") as db:
                urls = [
                    url
                    for (url,) in db.execute(
                        "select p.image_url from sandbox_posts p join sandbox_users u "
                        "on u.id = p.user_id where u.is_agent"
                    )
                ]
            with sqlite3.connect(Path(tmp) / "fleet.db") as db:
                posts = Counter(
                    f"{status}: {error[:60]}" if error else status
                    for status, error in db.execute(
                        "select status, error from agent_activities where action = 'post'"
                    )
                )
            folder = Path(tmp) / "published"
            folder.mkdir()
            valid = 0
            for n, url in enumerate(urls):
                image = httpx.get(url, timeout=10).content
                (folder / f"{n}.png").write_bytes(image)
                valid += _c2pa_valid(image)
            types = _exiftool_types(folder)
            marked = sum(t.endswith("/trainedAlgorithmicMedia") for t in (types or {}).values())
        finally:
            demo.close()
            demo.sandbox.stop()
    print(
        json.dumps(
            {
                "agents": args.agents,
                "simulated_hours": args.hours,
                "strip_fault": args.strip,
                "post_activities": dict(posts),
                "published_by_agents": len(urls),
                "exiftool_digital_source_type": "exiftool not installed"
                if types is None
                else marked,
                "c2pa_reader_valid": valid,
                "share_with_both_marks": round(min(marked, valid) / len(urls), 3) if urls else None,
                "statuses": summary.statuses,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
