"""Held-out scores in the goal's own metric, and nothing pickled in the store.

``generations.test_accuracy`` becomes ``held_out`` (a champion's held-out score is in the metric the study is judged
on, which need not be accuracy). Results that workers spooled with pickle and no coordinator recorded are dropped
(their trials run again: a pickle is never read), and multi-fidelity checkpoints written with ``torch.save`` are
dropped (their trials train from the start again); both are now JSON with raw bytes and safetensors.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import inspect, text

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if "test_accuracy" in {c["name"] for c in inspect(bind).get_columns("generations")}:
        bind.execute(text("ALTER TABLE generations RENAME COLUMN test_accuracy TO held_out"))
    bind.execute(text("DELETE FROM results WHERE data IS NOT NULL"))
    bind.execute(text("DELETE FROM checkpoints"))


def downgrade() -> None:
    bind = op.get_bind()
    bind.execute(text("ALTER TABLE generations RENAME COLUMN held_out TO test_accuracy"))
