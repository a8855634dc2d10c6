"""The sandbox gallery: a local stand-in for the gallery API, for demos and tests.

``fleet sandbox serve`` runs it; ``fleet_sandbox.server.BackgroundSandbox`` runs it on a
thread. See ``app`` for the API, ``faults`` for fault injection and the admin API.
"""
