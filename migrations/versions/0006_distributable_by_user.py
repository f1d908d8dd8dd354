"""distributable by user

What a schema distributed by user (Citus) needs, on any PostgreSQL and on SQLite alike:

- revoked_tokens is keyed (user_id, jti), as every per-user table is keyed user_id first;
- an email is unique through a lookup table of its own, user_emails(email, user_id), not a
  unique constraint across users (a unique constraint must include the distribution column);
- the task counters (0005) count a row at a time: triggers over transition tables cannot run
  on a distributed table's shards;
- on PostgreSQL, a task's updated_at is stamped by a row trigger, after the row's lock was
  taken (clock_timestamp()), instead of inside the UPDATE: functions that volatile are refused
  in an UPDATE of a distributed table. SQLite keeps the app's clock.

Downgrade restores 0005's schema: the email constraint again (user_emails is dropped), the
revocations keyed by jti, the per-statement counters and the stamp inside the UPDATE.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import context, op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

COUNT_A_ROW = [
    """CREATE FUNCTION count_user_task() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            UPDATE users SET task_count = task_count + 1,
                completed_count = completed_count + NEW.completed::int
            WHERE id = NEW.user_id;
        ELSIF TG_OP = 'DELETE' THEN
            UPDATE users SET task_count = task_count - 1,
                completed_count = completed_count - OLD.completed::int
            WHERE id = OLD.user_id;
        ELSIF NEW.completed IS DISTINCT FROM OLD.completed THEN
            UPDATE users SET completed_count = completed_count + NEW.completed::int
                - OLD.completed::int
            WHERE id = NEW.user_id;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER tasks_counted AFTER INSERT OR DELETE OR UPDATE OF completed ON tasks
    FOR EACH ROW EXECUTE FUNCTION count_user_task()""",
    """CREATE FUNCTION stamp_task_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.version IS DISTINCT FROM OLD.version THEN
            NEW.updated_at := clock_timestamp();
        END IF;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER tasks_change_stamped BEFORE UPDATE ON tasks
    FOR EACH ROW EXECUTE FUNCTION stamp_task_change()""",
]
UNCOUNT_A_ROW = [
    "DROP TRIGGER tasks_change_stamped ON tasks",
    "DROP FUNCTION stamp_task_change()",
    "DROP TRIGGER tasks_counted ON tasks",
    "DROP FUNCTION count_user_task()",
]


def counters_of_0005():
    """Revision 0005's module, whose statements create and drop its counters."""
    return context.script.get_revision("0005").module


def upgrade():
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("revoked_tokens") as batch_op:
        batch_op.drop_constraint("pk_revoked_tokens", type_="primary")
        batch_op.create_primary_key("pk_revoked_tokens", ["user_id", "jti"])
    op.create_table(
        "user_emails",
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("email", name="pk_user_emails"),
    )
    op.execute("INSERT INTO user_emails (email, user_id) SELECT email, id FROM users")
    if dialect == "postgresql":
        op.execute("LOCK TABLE tasks IN SHARE ROW EXCLUSIVE MODE")  # no write between the two
    # SQLite rebuilds users to drop the constraint, which its triggers on tasks name.
    for statement in counters_of_0005().DROP[dialect]:
        op.execute(statement)
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_constraint("uq_users_email", type_="unique")
    for statement in COUNT_A_ROW if dialect == "postgresql" else counters_of_0005().SQLITE:
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("LOCK TABLE tasks IN SHARE ROW EXCLUSIVE MODE")
    for statement in UNCOUNT_A_ROW if dialect == "postgresql" else counters_of_0005().DROP[dialect]:
        op.execute(statement)
    with op.batch_alter_table("users") as batch_op:
        batch_op.create_unique_constraint("uq_users_email", ["email"])
    for statement in counters_of_0005().CREATE[dialect]:
        op.execute(statement)
    op.drop_table("user_emails")
    with op.batch_alter_table("revoked_tokens") as batch_op:
        batch_op.drop_constraint("pk_revoked_tokens", type_="primary")
        batch_op.create_primary_key("pk_revoked_tokens", ["jti"])
