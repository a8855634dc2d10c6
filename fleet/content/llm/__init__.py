"""The LLM writers: one base owning prompts, repair and budget; each provider only its call."""
