"""Alembic migrations of the vertebro schema; run them with :mod:`vertebro.store.migrate`."""
