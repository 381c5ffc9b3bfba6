"""Watch actions: what officers did about merchants on the watch-list (issue #16), append-only.

Each row is one action (review, freeze_offers, contact, unfreeze) on a merchant (and the flagged
loan), with a note (required to freeze or unfreeze), the user and the time. Triggers refuse UPDATE
and DELETE, as for decisions: the freeze history cannot be rewritten, even by hand.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: Union[str, Sequence[str], None] = "0004"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "watch_actions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("merchant_id", sa.String(64), nullable=False),
        sa.Column("loan_id", sa.String(64)),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("user_name", sa.String(64), sa.ForeignKey("users.name"), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.CheckConstraint("action IN ('review', 'freeze_offers', 'contact', 'unfreeze')",
                           name="ck_watch_actions_action"),
        sa.CheckConstraint("action NOT IN ('freeze_offers', 'unfreeze') OR length(note) > 0",
                           name="ck_watch_actions_note"),
    )
    op.create_index("ix_watch_actions_merchant", "watch_actions", ["merchant_id", "id"])
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        # cb_refuse_change() comes with revision 0001.
        op.execute("CREATE TRIGGER watch_actions_append_only BEFORE UPDATE OR DELETE ON watch_actions "
                   "FOR EACH ROW EXECUTE FUNCTION cb_refuse_change()")
        op.execute("CREATE TRIGGER watch_actions_no_truncate BEFORE TRUNCATE ON watch_actions "
                   "FOR EACH STATEMENT EXECUTE FUNCTION cb_refuse_change()")
    elif dialect == "sqlite":
        for operation in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER watch_actions_no_{operation.lower()} BEFORE {operation} "
                       f"ON watch_actions BEGIN SELECT RAISE(ABORT, "
                       f"'watch_actions is append-only: {operation} refused'); END")


def downgrade() -> None:
    op.drop_table("watch_actions")  # its index and triggers go with it
