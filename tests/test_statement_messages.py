"""Every message of SQL that PostgreSQL receives holds one command, from the app and from the
migrations, directly and through PgBouncer: Citus refuses to forward DDL sent in a message of
two commands, and pays a transaction block's round trips for every other such message."""

import pglast
import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy.engine import make_url

from config import TestingConfig
from tests.databases import scratch_database
from tests.pgbouncer import PgBouncer
from tests.test_distributable import walk_through
from tests.wire_log import WireLog
from todo import create_app
from todo.extensions import db


@pytest.fixture(params=["postgresql", "pgbouncer"])
def recorded_app(request, tmp_path):
    """(an app on a scratch database, the log of what the server received from it)."""
    wire = WireLog()
    bouncer = None
    with scratch_database("postgresql", tmp_path) as url:
        app_url = make_url(url).set(port=wire.port, query={"sslmode": "disable"})
        app_url = app_url.render_as_string(hide_password=False)
        if request.param == "pgbouncer":
            bouncer = PgBouncer(app_url)
            app_url = bouncer.url_for(app_url)
        app = create_app(TestingConfig(app_url))
        yield app, wire
        with app.app_context():
            db.engine.dispose()
        if bouncer:
            bouncer.stop()
    wire.stop()


def test_no_message_the_server_receives_holds_two_commands(recorded_app):
    app, wire = recorded_app
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        upgrade()
    migrations = len(wire.texts)
    client = app.test_client()
    walk_through(client, lambda user_id: f"/api/{user_id}/tasks")
    assert client.get("/readyz").status_code == 200
    assert app.test_cli_runner().invoke(args=["todo", "purge"]).exit_code == 0
    assert migrations > 200 and len(wire.texts) > migrations + 100
    several = [text for text in wire.texts if len(pglast.parse_sql(text)) != 1]
    assert several == []


def test_the_wire_log_sees_a_message_of_two_commands(recorded_app):
    """The check above can fail: a message of two commands is seen as one."""
    app, wire = recorded_app
    with app.app_context():
        db.session.execute(db.text("SELECT 1; SELECT 2"))
    assert [len(pglast.parse_sql(text)) for text in wire.texts][-1] == 2
