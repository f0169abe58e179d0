"""Results spooled by workers (the ``results`` table), so a result reaches the store even if its coordinator dies.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

from evoforge.storage import _schema as t

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    t.results.create(op.get_bind(), checkfirst=True)  # the baseline creates it on stores made since


def downgrade() -> None:
    t.results.drop(op.get_bind())
