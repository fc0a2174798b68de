"""Alembic migrations of the console database: env.py runs them (engine.py calls it at open)."""
