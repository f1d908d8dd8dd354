"""A PgBouncer of the suite's own, in transaction mode (the mode of Neon's pooled endpoint and
most managed poolers), in front of TEST_DATABASE_URL's server: the suite's "pgbouncer"
database kind runs every database test through it.

The binary comes from Debian's `pgbouncer` package (`make test` installs it when missing).
Without it the pooled tests are skipped and say why; under CI=true they fail instead.
"""

import getpass
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy.engine import make_url

from tests.tcp_proxy import free_port

CONFIG = """\
[databases]
* = host={host} port={port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen_port}
unix_socket_dir =
auth_type = trust
auth_file = {directory}/users.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 20
logfile = {directory}/pgbouncer.log
pidfile = {directory}/pgbouncer.pid
admin_users = {user}
"""


def pgbouncer_binary() -> str:
    found = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin")
    if found:
        return found
    message = "PgBouncer is not installed (`make test` installs Debian's pgbouncer package)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


class PgBouncer:
    """`pgbouncer` with a generated configuration, on a free port, until `stop()`. PgBouncer
    refuses to run as root; as root it is started as the `postgres` user the server's
    package made."""

    def __init__(self, server_url: str):
        # Its own directory under /tmp: pytest's are closed to the postgres user.
        directory = Path(tempfile.mkdtemp(prefix="todo-pgbouncer-"))
        self.directory = directory
        server = make_url(server_url)
        self.user = server.username or getpass.getuser()
        self.port = free_port()
        directory.chmod(0o777)
        (directory / "users.txt").write_text(f'"{self.user}" ""\n')
        config = directory / "pgbouncer.ini"
        config.write_text(
            CONFIG.format(
                host=server.host or "127.0.0.1",
                port=server.port or 5432,
                listen_port=self.port,
                directory=directory,
                user=self.user,
            )
        )
        as_user = ["-u", "postgres"] if os.geteuid() == 0 else []
        self.log = directory / "pgbouncer.log"
        self.process = subprocess.Popen(
            [pgbouncer_binary(), *as_user, str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        self.wait_until_listening()

    def wait_until_listening(self, seconds: float = 10) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = self.log.read_text() if self.log.exists() else ""
                raise RuntimeError(f"pgbouncer exited with {self.process.returncode}: {log}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"pgbouncer did not listen on {self.port} within {seconds} s")

    def url_for(self, database_url: str) -> str:
        """The same database, through this PgBouncer."""
        url = make_url(database_url).set(host="127.0.0.1", port=self.port, username=self.user)
        return url.render_as_string(hide_password=False)

    def show(self, what: str) -> list[dict]:
        """`SHOW <what>` on PgBouncer's admin console, as rows of column: value."""
        console = psycopg2.connect(
            host="127.0.0.1", port=self.port, user=self.user, dbname="pgbouncer"
        )
        console.autocommit = True  # the console takes no transactions
        try:
            with console.cursor() as cursor:
                cursor.execute(f"SHOW {what}")
                names = [column.name for column in cursor.description]
                return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        finally:
            console.close()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        shutil.rmtree(self.directory, ignore_errors=True)
