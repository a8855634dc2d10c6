"""The web console: the fleet seen and steered in a browser (a face on fleet.service)."""
