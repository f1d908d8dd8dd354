"""Behind a transaction-mode PgBouncer, as Neon's pooled endpoint and most managed poolers
run: the operator's commands and real gunicorn work through it unchanged. (Every database test
also runs through it: the suite's "pgbouncer" database kind; its statement timeout is checked
in test_faults.)"""

import os
import subprocess
import sys

from sqlalchemy.engine import make_url

from tests.databases import scratch_database
from tests.servers import ROOT, create_task, sign_in


def test_the_suite_pools_in_transaction_mode(pgbouncer):
    config = {row["key"]: row["value"] for row in pgbouncer.show("CONFIG")}
    assert config["pool_mode"] == "transaction"


def test_upgrade_and_gunicorn_through_pgbouncer(pgbouncer, tmp_path, servers):
    """`flask db upgrade`, then a walkthrough on gunicorn, through PgBouncer: none of it
    relies on session state (no startup options, no session SET, no named prepared
    statements), and PgBouncer's clients are the app's."""
    with scratch_database("postgresql", tmp_path) as direct_url:
        url = pgbouncer.url_for(direct_url)
        upgraded = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi:app", "db", "upgrade"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": url},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert upgraded.returncode == 0, upgraded.stderr
        server = servers(url)
        user_id, headers = sign_in(server)
        task = create_task(server, user_id, headers)
        task_url = f"/api/{user_id}/tasks/{task['id']}"
        assert server.call("PATCH", f"{task_url}/complete", None, headers)[0] == 200
        status, _, page = server.call("GET", f"/api/{user_id}/tasks", None, headers)
        assert status == 200 and [row["completed"] for row in page] == [True]
        assert server.call("GET", "/readyz")[0] == 200
        database = make_url(direct_url).database
        assert any(client["database"] == database for client in pgbouncer.show("CLIENTS"))
        server.stop()
