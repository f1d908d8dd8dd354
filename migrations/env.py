"""Alembic environment for Flask-Migrate: the app's engine and metadata, online or offline."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

from todo.database import TRANSACTION_ISOLATION

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
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
