"""Content in the persona's voice: the port, the Anthropic and offline writers, the guard."""
