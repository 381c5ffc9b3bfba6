"""Users, sessions, versioned policies, decisions, audit log and merchant requests.

Besides the tables, triggers refuse UPDATE and DELETE on ``audit_log`` and ``decisions`` and any
change to a published policy version, so "append-only" and "immutable" hold even for SQL typed
by hand, not only for the store's verbs.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TIME = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
APPEND_ONLY = ("audit_log", "decisions")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("partner", sa.String(64)),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("failed_logins", sa.Integer, nullable=False),
        sa.Column("locked_until", TIME),
        sa.Column("created_at", TIME, nullable=False),
        sa.CheckConstraint("role IN ('admin', 'pm', 'officer', 'partner')", name="ck_users_role"),
        sa.CheckConstraint("(role = 'partner') = (partner IS NOT NULL)", name="ck_users_partner"),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("last_seen", TIME, nullable=False),
        sa.Column("ended_at", TIME),
    )
    op.create_table(
        "policies",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_table(
        "policy_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("policy_id", sa.Integer, sa.ForeignKey("policies.id"), nullable=False),
        sa.Column("version", sa.Integer),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("created_by", sa.String(64), sa.ForeignKey("users.name"), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.Column("based_on_version", sa.Integer),
        sa.Column("published_by", sa.String(64), sa.ForeignKey("users.name")),
        sa.Column("published_at", TIME),
        sa.UniqueConstraint("policy_id", "version", name="uq_policy_versions_version"),
        sa.CheckConstraint("status IN ('draft', 'published')", name="ck_policy_versions_status"),
        sa.CheckConstraint("(status = 'published') = (version IS NOT NULL)", name="ck_policy_versions_numbered"),
    )
    op.create_index("uq_policy_versions_one_draft", "policy_versions", ["policy_id", "created_by"], unique=True,
                    sqlite_where=sa.text("status = 'draft'"), postgresql_where=sa.text("status = 'draft'"))
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("merchant_id", sa.String(64), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("user_name", sa.String(64), sa.ForeignKey("users.name"), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("score", sa.Double, nullable=False),
        sa.Column("grade", sa.Integer, nullable=False),
        sa.Column("pd", sa.Double, nullable=False),
        sa.Column("reason_codes", JSON, nullable=False),
        sa.Column("policy_id", sa.Integer, sa.ForeignKey("policies.id")),
        sa.Column("policy_version", sa.Integer),
        sa.Column("model_version", sa.String(128), nullable=False),
        sa.Column("supersedes_id", sa.Integer, sa.ForeignKey("decisions.id"), unique=True),
        sa.CheckConstraint("decision IN ('approve', 'refer', 'decline')", name="ck_decisions_decision"),
        sa.CheckConstraint("score >= 1 AND score <= 1000", name="ck_decisions_score"),
        sa.CheckConstraint("grade >= 1 AND grade <= 10", name="ck_decisions_grade"),
        sa.CheckConstraint("pd >= 0 AND pd <= 1", name="ck_decisions_pd"),
        sa.CheckConstraint("(policy_id IS NULL) = (policy_version IS NULL)", name="ck_decisions_policy"),
        sa.ForeignKeyConstraint(["policy_id", "policy_version"],
                                ["policy_versions.policy_id", "policy_versions.version"],
                                name="fk_decisions_policy_version"),
    )
    op.create_index("ix_decisions_merchant", "decisions", ["merchant_id", "id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", TIME, nullable=False),
        sa.Column("user_name", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("entity_id", sa.String(64)),
        sa.Column("before", JSON),
        sa.Column("after", JSON),
    )
    op.create_index("ix_audit_log_entity", "audit_log", ["entity", "entity_id"])
    op.create_index("ix_audit_log_user", "audit_log", ["user_name"])
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_table(
        "requests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("merchant_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("opened_by", sa.String(64), sa.ForeignKey("users.name"), nullable=False),
        sa.Column("received_at", TIME, nullable=False),
        sa.Column("due_at", TIME, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("resolution", sa.Text),
        sa.Column("resolved_by", sa.String(64), sa.ForeignKey("users.name")),
        sa.Column("resolved_at", TIME),
        sa.CheckConstraint("kind IN ('explanation', 'correction', 'recalculation', 'human_review')",
                           name="ck_requests_kind"),
        sa.CheckConstraint("status IN ('open', 'in_progress', 'resolved')", name="ck_requests_status"),
        sa.CheckConstraint("(status = 'resolved') = (resolved_at IS NOT NULL)", name="ck_requests_resolved"),
    )
    op.create_index("ix_requests_status_due", "requests", ["status", "due_at"])
    op.create_index("ix_requests_merchant", "requests", ["merchant_id"])
    _create_guards(op.get_bind().dialect.name)


def _create_guards(dialect: str) -> None:
    if dialect == "postgresql":
        op.execute("""
            CREATE FUNCTION cb_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
            END $$""")
        op.execute("""
            CREATE FUNCTION cb_published_policy_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF OLD.status = 'published' THEN
                    RAISE EXCEPTION 'published policy versions are immutable: % refused', TG_OP;
                END IF;
                IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
                RETURN NEW;
            END $$""")
        for table in APPEND_ONLY:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION cb_refuse_change()")
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION cb_refuse_change()")
        op.execute("CREATE TRIGGER policy_versions_immutable BEFORE UPDATE OR DELETE ON policy_versions "
                   "FOR EACH ROW EXECUTE FUNCTION cb_published_policy_immutable()")
    elif dialect == "sqlite":
        for table in APPEND_ONLY:
            for operation in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {operation} refused'); END")
        for operation in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER policy_versions_published_no_{operation.lower()} BEFORE {operation} "
                       f"ON policy_versions WHEN OLD.status = 'published' "
                       f"BEGIN SELECT RAISE(ABORT, 'published policy versions are immutable: {operation} refused'); "
                       f"END")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in ("requests", "audit_log", "decisions", "policy_versions", "policies", "sessions", "users"):
        op.drop_table(table)
    if dialect == "postgresql":
        op.execute("DROP FUNCTION cb_refuse_change()")
        op.execute("DROP FUNCTION cb_published_policy_immutable()")
