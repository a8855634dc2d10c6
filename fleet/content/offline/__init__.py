"""The offline writer: words from templates, with its wording, voice and identity."""
