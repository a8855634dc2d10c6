"""The impact experiment: does engagement help the newcomers it reaches, measured against a
randomized holdout no agent singles out (docs/impact.md).

Its modules, by layer (import-linter places each in its layer, ``pyproject.toml``):

- core (pure): ``holdout.py``, the arms and who is spared; ``outcomes.py``, the outcomes
  and their statistics (the report);
- activities (the ledger): ``records.py``, each person's arm and the sightings, written
  and read;
- actions: ``holdout_view.py``, whom a process's target choices spare, kept a bound old;
- application layer: ``use_cases.py``, recording people and the impact report;
  ``sightings.py``, the listener that keeps the people the fleet saw.

Its faces stay with the others: ``fleet impact`` (``fleet/cli/impact.py``) and the
console's page (``fleet/console/pages/impact.py``).
"""
