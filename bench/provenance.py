"""The cost of provenance per post: marking (XMP + a signed C2PA manifest), and Fleet's
check (XMP parse, C2PA read and validation), on the sandbox's own 512x512 PNGs.

Prints JSON: the import cost of ``c2pa`` (CPU, resident memory), then medians (ms) of CPU
time per picture for marking, checking, and both, over ``--images`` pictures; and Fleet's
whole check (the HTTP fetch from a loopback sandbox, then verification). Run: python -m bench.provenance
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

_IMPORT = """
import time
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
before, started = rss(), time.process_time()
import c2pa
c2pa.Reader.get_supported_mime_types()  # the native library loaded and called once
print(time.process_time() - started, rss() - before)
"""


def _import_cost() -> dict[str, float]:
    """CPU and resident memory a process pays to import c2pa and load its library."""
    done = subprocess.run([sys.executable, "-c", _IMPORT], capture_output=True, text=True)
    seconds, megabytes = (float(n) for n in done.stdout.split())
    return {"import_cpu_ms": round(seconds * 1000, 1), "import_rss_mb": round(megabytes, 1)}


def _fetch_and_check(count: int) -> list[float]:
    """CPU (ms, the calling thread's) of Fleet's whole check per image: the bounded HTTP
    fetch from a sandbox on a loopback port (its own thread) and the verification."""
    from pydantic import AnyUrl

    from fleet.gallery.client import HttpGallery
    from fleet.gallery.provenance import ProvenanceCheck
    from fleet.settings import GallerySettings, ProvenanceSettings
    from fleet_sandbox.config import SandboxConfig
    from fleet_sandbox.server import BackgroundSandbox

    asked = {"digitalSourceType": "trainedAlgorithmicMedia", "operator": "op", "operatorUrl": ""}
    with BackgroundSandbox(SandboxConfig()) as sandbox:
        gallery = HttpGallery(GallerySettings(url=AnyUrl(sandbox.url)), provenance=asked)
        gallery.provision_user(handle="ada", name="Ada", persona="indie_game_dev")
        urls = [
            gallery.generate_image(
                agent="ada",
                prompt=f"a castle, study {n}",
                style="pixel",
                persona="indie_game_dev",
                idempotency_key=f"bench-{n}",
            )
            for n in range(count)
        ]
        # Over the gallery client's own connection, as a Fleet's check fetches.
        check = ProvenanceCheck(
            ProvenanceSettings(), timeout_seconds=10, gallery_url=sandbox.url, link=gallery.link
        )
        spent = []
        for url in urls:
            started = time.thread_time()
            assert check.check(url, "ada")["ok"]
            spent.append((time.thread_time() - started) * 1000)
        check.close()
        gallery.close()
    return spent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=40)
    args = parser.parse_args()
    from fleet.gallery.provenance import Expected, verify
    from fleet_sandbox import images, provenance

    marker = provenance.Marker(provenance.self_signed_pair("bench"))
    marks = provenance.Marks("trainedAlgorithmicMedia", "sandbox-diffusion-1", "ada", "op", "")
    prompts = [f"a lighthouse at dusk, study {n}" for n in range(args.images)]
    pngs = [
        images.render(p, style="pixel", persona="indie_game_dev", width=512, height=512)
        for p in prompts
    ]
    first = time.process_time()
    marker.mark(pngs[0], marks, "warm")  # the signer's context is made once per process
    first_ms = (time.process_time() - first) * 1000
    mark_ms, check_ms, sizes = [], [], []
    for png in pngs:
        t = time.process_time()
        marked = marker.mark(png, marks, "t")
        t2 = time.process_time()
        verify(marked, Expected("ada"), max_pixels=40_000_000)
        t3 = time.process_time()
        mark_ms.append((t2 - t) * 1000)
        check_ms.append((t3 - t2) * 1000)
        sizes.append(len(marked) - len(png))
    fetched = _fetch_and_check(min(args.images, 20))
    print(
        json.dumps(
            {
                **_import_cost(),
                "first_mark_cpu_ms": round(first_ms, 1),
                "images": len(pngs),
                "mark_cpu_ms_median": round(statistics.median(mark_ms), 2),
                "check_cpu_ms_median": round(statistics.median(check_ms), 2),
                "per_post_cpu_ms_median": round(
                    statistics.median(a + b for a, b in zip(mark_ms, check_ms, strict=True)), 2
                ),
                "per_post_cpu_ms_max": round(
                    max(a + b for a, b in zip(mark_ms, check_ms, strict=True)), 2
                ),
                "fetch_and_check_cpu_ms_median": round(statistics.median(fetched), 2),
                "target_ms": 150,
                "bytes_added_median": int(statistics.median(sizes)),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
