"""Consent: a person's say over how agents may engage with them (an opt-out, a block).

Its modules, by layer (import-linter places each in its layer, ``pyproject.toml``):

- core (pure): ``core.py``, the values and the one rule that reads them (``allows``);
- actions: ``book.py``, people's consent as a process knows it, kept at most a bound old
  (``ConsentBook``);
- application layer: ``status.py``, people's say for ``fleet status``; ``audit.py``, the
  honesty audit's check that no agent acted toward a person who said no;
  ``audit_follows.py``, its check that no agent followed one.

The gallery's answers are read into these values by the gallery adapter
(``fleet/gallery/consent.py``), the port's own reading like every other answer.
"""
