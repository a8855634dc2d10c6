"""Honesty: every person can tell what an agent is (docs/disclosure.md,
docs/identity-questions.md).

No agent says it is human; each says it is automated and who runs it, on its profile, in
its images and when asked.

Its modules, by layer (import-linter places each in its layer, ``pyproject.toml``):

- content (beside ``fleet.content``, whose guard, writers and images use them):
  ``human_claim.py``, a claim to be human by its words (pure); ``claim_meaning.py``, by
  its meaning (the embedder); ``claims.py``, the check the guard and the audit share;
  ``truthful_answer.py``, whether an answer tells the truth (pure);
  ``identity_question.py``, a question about what an agent is by its words (pure);
  ``identity_intent.py``, by its meaning; ``identity_answer.py``, the offline writer's
  truthful answer (pure); ``image_disclosure.py``, the words that say an image is made by
  AI where a platform strips its marks;
- activities (the ledger): ``ledger.py``, the questions noted and the answers owed;
- application layer: ``use_cases.py``, questions found and answered and the audit's
  counts; ``questions.py``, the listener that notes them; ``audit.py``, the honesty audit,
  its checks in ``audit_scope.py``, ``audit_disclosure.py``, ``audit_images.py`` and
  ``audit_texts.py`` (those of people's "no" are consent's: ``fleet.consent.audit``).

The disclosure an agent account carries is read from the gallery by its adapter
(``fleet/gallery/consent.py``); ``fleet audit`` is a face (``fleet/cli/audit.py``).
"""
