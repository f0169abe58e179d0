"""Alembic's entry point: evoforge runs migrations on a connection it opened (``config.attributes``)."""

from __future__ import annotations

from alembic import context

from evoforge.storage._schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
