"""The cost of provenance per post: marking (XMP + a signed C2PA manifest), and Fleet's
check (XMP parse, C2PA read and validation), on the sandbox's own 512x512 PNGs.

Prints JSON: the import cost of ``c2pa``, then medians (ms) of CPU time per picture for
marking, checking, and both, over ``--images`` pictures. Run: python -m bench.provenance
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time


def _import_cost() -> dict[str, float]:
    code = (
        "import time,resource;t=time.process_time();import c2pa;"
        "c2pa.Reader.get_supported_mime_types();"
        "print(time.process_time()-t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    base = "import resource;print(0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    with_c2pa = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    without = subprocess.run([sys.executable, "-c", base], capture_output=True, text=True)
    seconds, rss = with_c2pa.stdout.split()
    _, rss0 = without.stdout.split()
    return {
        "import_cpu_ms": round(float(seconds) * 1000, 1),
        "import_rss_mb": round((int(rss) - int(rss0)) / 1024, 1),
    }


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
                "target_ms": 150,
                "bytes_added_median": int(statistics.median(sizes)),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
