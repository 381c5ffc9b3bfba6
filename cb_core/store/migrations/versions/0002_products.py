"""Versioned partner product catalog: ``product_versions`` (immutable rows).

Each row is one saved catalog (JSON list of products), numbered 1, 2, ... Triggers refuse UPDATE
and DELETE, so a saved version never changes, even for SQL typed by hand.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: Union[str, Sequence[str], None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TIME = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "product_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("catalog", JSON, nullable=False),
        sa.Column("created_by", sa.String(64), sa.ForeignKey("users.name"), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.UniqueConstraint("version", name="uq_product_versions_version"),
        sa.CheckConstraint("version >= 1", name="ck_product_versions_version"),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        # cb_refuse_change() comes with revision 0001.
        op.execute("CREATE TRIGGER product_versions_append_only BEFORE UPDATE OR DELETE ON product_versions "
                   "FOR EACH ROW EXECUTE FUNCTION cb_refuse_change()")
        op.execute("CREATE TRIGGER product_versions_no_truncate BEFORE TRUNCATE ON product_versions "
                   "FOR EACH STATEMENT EXECUTE FUNCTION cb_refuse_change()")
    elif dialect == "sqlite":
        for operation in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER product_versions_no_{operation.lower()} BEFORE {operation} "
                       f"ON product_versions BEGIN SELECT RAISE(ABORT, "
                       f"'product_versions is append-only: {operation} refused'); END")


def downgrade() -> None:
    op.drop_table("product_versions")  # its triggers go with it
