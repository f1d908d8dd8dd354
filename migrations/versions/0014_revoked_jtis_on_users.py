"""revoked jtis on the users row

users.revoked_jtis: the jtis of the user's rows in revoked_tokens, each followed by a space,
kept by row triggers on revoked_tokens (insert, delete). Every task statement checks its
token against the caller's users row anyway (its generation); reading the revocations there
too takes revoked_tokens out of those statements: PostgreSQL then plans one table fewer per
request (~100 us of its CPU, bench/RESULTS.md). revoked_tokens stays what logout writes and
`flask todo purge` empties. A jti is a UUID's text (no space), so `jti || ' '` is found in the
column only where that jti is.

Downgrade drops the column and its triggers; revoked_tokens holds every revocation still.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

LISTED = "UPDATE users SET revoked_jtis = revoked_jtis || NEW.jti || ' ' WHERE id = NEW.user_id"
UNLISTED = (
    "UPDATE users SET revoked_jtis = replace(revoked_jtis, OLD.jti || ' ', '') "
    "WHERE id = OLD.user_id"
)
CREATE = {
    "postgresql": [
        f"""CREATE FUNCTION list_revoked_jti() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                {LISTED};
            ELSE
                {UNLISTED};
            END IF;
            RETURN NULL;
        END $$""",
        """CREATE TRIGGER revoked_token_listed AFTER INSERT OR DELETE ON revoked_tokens
        FOR EACH ROW EXECUTE FUNCTION list_revoked_jti()""",
    ],
    "sqlite": [
        f"""CREATE TRIGGER revoked_token_listed AFTER INSERT ON revoked_tokens
        BEGIN {LISTED}; END""",
        f"""CREATE TRIGGER revoked_token_unlisted AFTER DELETE ON revoked_tokens
        BEGIN {UNLISTED}; END""",
    ],
}
DROP = {
    "postgresql": [
        "DROP TRIGGER revoked_token_listed ON revoked_tokens",
        "DROP FUNCTION list_revoked_jti()",
    ],
    "sqlite": ["DROP TRIGGER revoked_token_unlisted", "DROP TRIGGER revoked_token_listed"],
}
# The revocations already made, listed once.
AGGREGATE = {"postgresql": "string_agg(jti || ' ', '')", "sqlite": "group_concat(jti || ' ', '')"}


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        # Logouts wait until the triggers exist: none can slip between the listing below and
        # the triggers and be missed for good. Reads go on.
        op.execute("LOCK TABLE revoked_tokens IN SHARE ROW EXCLUSIVE MODE")
    op.add_column(
        "users", sa.Column("revoked_jtis", sa.Text(), server_default=sa.text("''"), nullable=False)
    )
    op.execute(
        f"""UPDATE users SET revoked_jtis = (SELECT {AGGREGATE[dialect]} FROM revoked_tokens
        WHERE revoked_tokens.user_id = users.id)
        WHERE EXISTS (SELECT 1 FROM revoked_tokens WHERE revoked_tokens.user_id = users.id)"""
    )
    for statement in CREATE[dialect]:
        op.execute(statement)


def downgrade():
    for statement in DROP[op.get_bind().dialect.name]:
        op.execute(statement)
    # SQLite (3.35 and later) drops a column in place, without rebuilding users.
    op.drop_column("users", "revoked_jtis")
