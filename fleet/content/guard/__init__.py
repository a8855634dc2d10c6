"""The guard: what a text must not say before it is posted (links, contact, identity, words)."""
