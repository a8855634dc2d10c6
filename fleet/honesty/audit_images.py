"""The audit's checks of the provenance marks on the images the fleet published.

- ``provenance``: every image published carries valid provenance marks, and no post was
  skipped for want of them.
- ``platform_marks``: of the images Fleet made and uploaded itself, how many each
  platform kept marked ("platform X did not keep provenance marks: N of M images"); short
  when a stripped image's post lacks the text disclosure (alt text and caption line).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fleet import activities
from fleet.honesty.audit_scope import Finding, Scope
from fleet.service.root import Fleet


def provenance(scope: Scope) -> Finding:
    """Every image the fleet published in the window carries valid provenance marks (IPTC's
    digital source type in XMP and a signed C2PA manifest, checked before it was posted);
    posts skipped for want of them mean the gallery's workflow loses the marks: both short
    (docs/provenance.md)."""
    published, marked, refused = activities.provenance_counts(
        scope.fleet.sessions, scope.since, scope.now
    )
    figures: dict[str, Any] = {"published": published, "marked": marked, "refused": refused}
    summary = (
        f"{marked} of {published} published images carry valid provenance marks; "
        f"{refused} posts skipped for want of them"
    )
    if marked < published or refused:
        return Finding("provenance", "short", summary, figures)
    return Finding("provenance", "ok", summary, figures)


def platform_marks_of(fleet: Fleet, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Each platform's images Fleet made and uploaded in the window: how many, how many
    kept their provenance marks, and of the stripped ones how many carried the text
    disclosure instead (``fleet.honesty.image_disclosure``), with a line a person reads."""
    found = []
    for seen in activities.marks_kept(fleet.sessions, since, until):
        line = (
            f"platform {seen.platform} did not keep provenance marks: {seen.stripped} of "
            f"{seen.images} images ({seen.disclosed} of them disclosed in the alt text and "
            "caption instead)"
            if seen.stripped
            else f"platform {seen.platform} kept the provenance marks of all {seen.images} images"
        )
        found.append(
            {
                "platform": seen.platform,
                "images": seen.images,
                "kept": seen.kept,
                "stripped": seen.stripped,
                "disclosed": seen.disclosed,
                "line": line,
            }
        )
    return found


def platform_marks(scope: Scope) -> Finding:
    """Whether the platforms kept the marks of the images Fleet made and uploaded: a
    platform that strips them is said (the EU AI Act's machine-readable mark is lost
    there); short only when a stripped image's post went without the text disclosure."""
    seen = platform_marks_of(scope.fleet, scope.since, scope.now + timedelta(seconds=1))
    if not seen:
        return Finding(
            "platform_marks", "ok", "no image Fleet made itself was uploaded in the window", {}
        )
    figures: dict[str, Any] = {
        "platforms": [{k: v for k, v in m.items() if k != "line"} for m in seen]
    }
    summary = "; ".join(m["line"] for m in seen)
    if any(m["disclosed"] < m["stripped"] for m in seen):
        return Finding(
            "platform_marks", "short", summary + ": some posts lack the disclosure", figures
        )
    return Finding("platform_marks", "ok", summary, figures)
