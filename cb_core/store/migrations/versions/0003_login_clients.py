"""Login throttling per client, sessions bound to their browser, one-time login tickets.

``login_clients`` keeps, per client (a keyed hash of its address, never the address itself), the
failed logins in a row and the time before which its next attempt is refused. ``sessions`` gets
``user_agent_sha256``: a token replayed from another browser is refused. ``login_tickets`` holds
the one-time tickets an HTTP route exchanges for an HttpOnly session cookie.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: Union[str, Sequence[str], None] = "0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "login_clients",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("client_key", sa.String(64), nullable=False, unique=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_failure", TIME),
        sa.Column("not_before", TIME),
    )
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("user_agent_sha256", sa.String(64)))
    op.create_table(
        "login_tickets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ticket_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("user_agent_sha256", sa.String(64)),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
        sa.Column("used_at", TIME),
    )


def downgrade() -> None:
    op.drop_table("login_tickets")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("user_agent_sha256")
    op.drop_table("login_clients")
