"""A note on each policy version: why it was published (required when publishing, issue #13).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: Union[str, Sequence[str], None] = "0003"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # a plain ADD COLUMN (SQLite and PostgreSQL both have it): recreating the table in batch mode
    # would drop its triggers (published versions immutable) and the one-draft partial index
    op.add_column("policy_versions", sa.Column("note", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("policy_versions", "note")
