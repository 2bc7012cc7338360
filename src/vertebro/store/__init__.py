"""Storage layer: SQLAlchemy models, repositories, unit of work and Alembic migrations.

All queries live in :mod:`vertebro.store.repository`; services in
:mod:`vertebro.store.service` never commit, the caller's :class:`~vertebro.store.db.UnitOfWork`
does. The schema only changes through the migrations in ``store/migrations``.
"""
