"""`flask todo …`: the operator's commands beside `flask db upgrade` (docs/scaling-out.md).

- `flask todo distribute` spreads the schema over a Citus cluster by user: run once on the
  coordinator after `flask db upgrade`; later migrations then apply to every shard.
- `flask todo purge`, from cron: purges tasks that expired in the trash (TRASH_RETENTION_DAYS),
  and forgets expired revocations and idempotency keys of every user (the app forgets a
  user's own as that user logs out or retries; this is for the rest).
- `flask todo deliver`, a service of its own (one or more, on any hosts): delivers the
  webhooks (todo/webhooks/delivery.py) until SIGTERM or SIGINT.
- `flask todo work`, a service of its own too, with Redis: imports the files too large to
  import inside their requests (todo/portability/jobs.py).
"""

import signal
import threading

import click
from flask import Blueprint, current_app
from sqlalchemy import text

from . import idempotency
from .accounts.store import forget_expired_revocations
from .columns import kept_since
from .database import transaction
from .extensions import db
from .lists.trash import purge_expired_lists, users_with_lists_before
from .portability import jobs
from .postgresql import bound_statements, unbounded_answers
from .tasks.changes import change
from .tasks.trash import purge_expired_trash, users_with_trash_before
from .webhooks import delivery

commands = Blueprint("todo", __name__, cli_group="todo")

# How Citus spreads each table: the users by id, every per-user table by user_id beside its
# user's row (colocated: a user's statements, joins and foreign keys stay on one shard), and a
# lookup table by what it looks up. Order matters: a table is colocated with one already
# distributed, and a foreign key refers to one.
DISTRIBUTION = [
    ("users", "id", None),
    ("lists", "user_id", "users"),
    ("purged_lists", "user_id", "users"),
    ("tasks", "user_id", "users"),
    ("labels", "user_id", "users"),
    ("task_labels", "user_id", "users"),
    ("revoked_tokens", "user_id", "users"),
    ("idempotency_keys", "user_id", "users"),
    ("purged_tasks", "user_id", "users"),
    ("task_completions", "user_id", "users"),
    ("list_members", "user_id", "users"),
    ("memberships", "user_id", "users"),
    ("membership_changes", "user_id", "users"),
    ("list_departures", "user_id", "users"),
    ("list_invitations", "user_id", "users"),
    ("user_emails", "email", None),
    ("invitations", "email", "user_emails"),
    ("webhook_endpoints", "user_id", "users"),
    ("webhook_attempts", "user_id", "users"),
    ("webhook_schedule", "slot", None),
    ("calendar_subscriptions", "user_id", "users"),
    ("calendar_feeds", "secret_digest", None),
]


def distribution_statements(distributed: set[str]) -> list[str]:
    """The statements that distribute what is not yet distributed, in order."""
    statements = []
    for table, column, colocate_with in DISTRIBUTION:
        if table in distributed:
            continue
        colocation = f", colocate_with => '{colocate_with}'" if colocate_with else ""
        statements.append(f"SELECT create_distributed_table('{table}', '{column}'{colocation})")
    return statements


@commands.cli.command("distribute")
@click.option("--dry-run", is_flag=True, help="Print the statements; run nothing.")
def distribute(dry_run: bool) -> None:
    """Distribute the tables by user on Citus (once, after `flask db upgrade`)."""
    if db.engine.dialect.name != "postgresql":
        raise click.ClickException("distribute: DATABASE_URL is not PostgreSQL with Citus")
    citus = db.session.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'citus'"))
    distributed = set()
    if citus.first():
        rows = db.session.execute(text("SELECT logicalrelid::text FROM pg_dist_partition"))
        distributed = set(rows.scalars())
    elif not dry_run:
        raise click.ClickException(
            "distribute: the citus extension is not installed in this database "
            "(CREATE EXTENSION citus on the coordinator and on every worker first)"
        )
    statements = distribution_statements(distributed)
    if dry_run:
        click.echo("\n".join(statements) or "nothing to distribute")
        return
    with transaction():
        connection = db.session.connection()
        # The triggers (on tasks, and on revoked_tokens keeping users.revoked_jtis) only touch
        # the row's own user, on the row's own shard.
        connection.execute(text("SET LOCAL citus.enable_unsafe_triggers = on"))
        connection.execute(text("SET LOCAL citus.multi_shard_modify_mode = 'sequential'"))
        # Each statement copies a table's rows: as long as that takes.
        bound_statements(connection, 0)
        with unbounded_answers(connection):
            for statement in statements:
                connection.execute(text(statement))
    click.echo(f"distributed {len(statements)} tables" if statements else "already distributed")


@commands.cli.command("purge")
def purge() -> None:
    """Purge expired trash, forget every user's expired revocations and idempotency keys (safe
    to run any time)."""
    since = kept_since(current_app.config["TRASH_RETENTION_DAYS"])
    purged = purged_lists = 0
    for user_id in sorted(
        set(users_with_trash_before(since)) | set(users_with_lists_before(since))
    ):
        with change(user_id, of_lists=True) as within:  # each user's own change number
            lists_gone, tasks_left = purge_expired_lists(within, since)
            purged += purge_expired_trash(within, since) + tasks_left
            purged_lists += lists_gone
    with transaction():
        revocations = forget_expired_revocations(None)
        keys = idempotency.purge_expired(None)
    click.echo(
        f"purged {purged} expired tasks and {purged_lists} expired lists from the trash, "
        f"forgot {revocations} expired revocations and {keys} expired idempotency keys"
    )


@commands.cli.command("deliver")
def deliver() -> None:
    """Deliver webhooks until SIGTERM or SIGINT (run one or more, on any hosts)."""
    stop = threading.Event()
    for each in (signal.SIGTERM, signal.SIGINT):
        signal.signal(each, lambda *_: stop.set())
    click.echo("delivering webhooks")
    delivery.deliver_forever(delivery.Settings.of(current_app.config), stop)
    click.echo("stopped delivering webhooks")


@commands.cli.command("work")
@click.option("--burst", is_flag=True, help="Stop once no import is waiting.")
def work(burst: bool) -> None:
    """Import the files sent as jobs until SIGTERM or SIGINT (which let the import under way
    finish first); run one or more, on any hosts."""
    worker = jobs.worker(current_app)
    if worker is None:
        raise click.UsageError(
            "RATELIMIT_STORAGE_URI is memory://: there is no import queue (every import runs "
            "in its request); set it to a redis:// URL"
        )
    click.echo("importing files")
    worker.work(burst=burst, logging_level=current_app.config["LOG_LEVEL"])
    click.echo("stopped importing files")
