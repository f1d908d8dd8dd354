"""Alembic environment for Flask-Migrate: the app's engine and metadata, online or offline."""

import logging
from contextlib import contextmanager
from logging.config import fileConfig

from alembic import context
from flask import current_app

from todo.database import TRANSACTION_ISOLATION
from todo.postgresql import bound_statements, unbounded_answers

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

db = current_app.extensions["migrate"].db
config.set_main_option(
    "sqlalchemy.url", db.engine.url.render_as_string(hide_password=False).replace("%", "%%")
)


def configure(**kwargs) -> None:
    options = {
        **current_app.extensions["migrate"].configure_args,
        "compare_type": True,
        # SQLite alters tables by copying them; batch mode does that for us.
        "render_as_batch": db.engine.dialect.name == "sqlite",
        **kwargs,
    }
    context.configure(target_metadata=db.metadata, **options)


def run_migrations_offline() -> None:
    configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    def skip_empty_revision(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    # The app's engine autocommits each statement; a migration must be one transaction
    # (on PostgreSQL, where DDL is transactional), so a failed upgrade leaves nothing behind.
    isolation = TRANSACTION_ISOLATION[db.engine.dialect.name]
    with db.engine.connect().execution_options(isolation_level=isolation) as connection:
        configure(connection=connection, process_revision_directives=skip_empty_revision)
        with sqlite_foreign_keys_off(connection), context.begin_transaction():
            citus_settings(connection)
            bounds(connection)
            with unbounded_answers(connection):
                context.run_migrations()
            if connection.dialect.name == "sqlite":  # before the commit, which it can stop
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise RuntimeError(
                        f"the migration left rows with broken foreign keys: {broken}"
                    )


def citus_settings(connection) -> None:
    """On Citus, DDL on distributed tables runs one shard after another within the migration's
    transaction (a parallel operation there would forbid any later statement of it), the
    task triggers are allowed on distributed tables (they touch only the row's own user, whose
    rows sit on the same shard: docs/scaling-out.md), and the transaction's SET LOCALs reach
    the workers too. SET LOCAL ends with the transaction."""
    if connection.dialect.name != "postgresql":
        return
    citus = connection.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = 'citus'")
    if citus.first():
        connection.exec_driver_sql("SET LOCAL citus.propagate_set_commands = 'local'")
        connection.exec_driver_sql("SET LOCAL citus.multi_shard_modify_mode = 'sequential'")
        connection.exec_driver_sql("SET LOCAL citus.enable_unsafe_triggers = on")


def bounds(connection) -> None:
    """A migration's statements may run as long as they take (rewriting a large table is
    work, not a hang), but none waits longer than DB_MIGRATION_LOCK_TIMEOUT for a lock: a
    migration queued behind a long transaction would otherwise hold every request that
    touches its table queued behind itself. Each SET LOCAL is a statement of its own (Citus
    refuses DDL sent in a message of two commands)."""
    if connection.dialect.name != "postgresql":
        return
    bound_statements(connection, 0)
    lock_ms = int(current_app.config["DB_MIGRATION_LOCK_TIMEOUT"] * 1000)
    connection.exec_driver_sql(f"SET LOCAL lock_timeout = {lock_ms}")


@contextmanager
def sqlite_foreign_keys_off(connection):
    """SQLite alters a table by rebuilding it (batch mode), and dropping the old table would
    apply its ON DELETE CASCADE to every row that refers to it: a user's tasks, say. So its
    foreign keys are off while migrating (the pragma holds only outside a transaction), every
    row is checked against them before the commit, and they are back on before the connection
    goes back to the pool."""
    if connection.dialect.name != "sqlite":
        yield
        return
    connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
    connection.commit()
    try:
        yield
    finally:
        connection.exec_driver_sql("PRAGMA foreign_keys = ON")
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
