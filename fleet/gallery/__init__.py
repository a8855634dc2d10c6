"""The gallery Fleet acts on: its port, the HTTP client, and the sandbox gallery."""
