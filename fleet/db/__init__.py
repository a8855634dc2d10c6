"""The database adapter: models, engine and migrations."""
