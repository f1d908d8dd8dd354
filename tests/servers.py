"""Real gunicorn servers for the tests that need processes (signals, outages, several hosts),
and raw HTTP/1.1 exchanges with them."""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from config import normalise_database_url
from tests.tcp_proxy import free_port

ROOT = Path(__file__).resolve().parent.parent
SECRET = "server-test-secret-" + "z" * 32
PASSWORD = "password123"


class Server:
    """`python -m server` (`gunicorn -c gunicorn.conf.py wsgi:app`, once the settings are
    checked) with 2 workers on a free port."""

    def __init__(self, database_url: str, log_path: Path, **settings: str):
        self.port = free_port()
        env = {
            **os.environ,
            "APP_ENV": "production",
            "DATABASE_URL": database_url,
            "JWT_SECRET_KEY": SECRET,
            "PORT": str(self.port),
            "WEB_CONCURRENCY": "2",
            "ARGON2_TIME_COST": "1",
            "ARGON2_MEMORY_COST": "8",
            "ARGON2_PARALLELISM": "1",
            "DB_CONNECT_TIMEOUT": "2",
            "RATELIMIT_ENABLED": "false",
            **settings,
        }
        self.env = env  # for processes beside it (`flask todo deliver`)
        self.log = log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.wait_until_up()

    def wait_until_up(self, seconds: float = 60):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                if self.call("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not start")

    def call(self, method: str, path: str, body=None, headers=None, timeout: float = 10):
        """(status, headers, parsed JSON body or None)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=data, method=method, headers=headers or {}
        )
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return answer.status, answer.headers, parse(answer.read())
        except urllib.error.HTTPError as answer:
            with answer:
                return answer.code, answer.headers, parse(answer.read())

    def log_text(self) -> str:
        """What the server has logged so far (its workers write within a second)."""
        self.log.flush()
        return Path(self.log.name).read_text()

    def worker_pids(self) -> list[str]:
        """The arbiter's children (Linux's /proc)."""
        pid = self.process.pid
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()

    def workers_cpu_seconds(self) -> float:
        """The CPU time the worker processes have used so far (Linux's /proc)."""
        ticks = 0
        for child in self.worker_pids():
            fields = Path(f"/proc/{child}/stat").read_text().rpartition(")")[2].split()
            ticks += int(fields[11]) + int(fields[12])  # utime and stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self, timeout: float = 35) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        finally:
            self.log.close()


def parse(raw: bytes):
    return json.loads(raw) if raw else None


def sign_in(server, email=None):
    """Sign up and log in; returns (user_id, auth headers)."""
    email = email or f"{secrets.token_hex(4)}@example.com"
    assert server.call("POST", "/api/auth/signup", {"email": email, "password": PASSWORD})[0] == 201
    _, _, body = server.call("POST", "/api/auth/login", {"email": email, "password": PASSWORD})
    return body["user_id"], {"Authorization": f"Bearer {body['token']}"}


def create_task(server, user_id, headers, title="A task"):
    status, _, body = server.call("POST", f"/api/{user_id}/tasks", {"title": title}, headers)
    assert status == 201
    return body


@contextmanager
def request_in_flight(server, database_url, user_id, headers, task):
    """A PUT of `task` running inside gunicorn, held on the task's row lock (taken here) until
    the block ends; yields the list its answer is appended to once it has one."""
    engine = create_engine(normalise_database_url(database_url))
    answers = []
    put = threading.Thread(
        target=lambda: answers.append(
            server.call("PUT", f"/api/{user_id}/tasks/{task['id']}", {"title": "Done"}, headers, 30)
        )
    )
    with engine.connect() as locker:
        locker.execute(text("SELECT 1 FROM tasks WHERE id = :id FOR UPDATE"), {"id": task["id"]})
        put.start()
        wait_for(lambda: waiting_on_locks(engine) == 1)
        try:
            yield answers
        finally:
            locker.rollback()
    put.join(10)
    engine.dispose()


@contextmanager
def thread_held(server, database_url):
    """One of the server's threads held, by a new user's PUT waiting on a row lock, until the
    block ends."""
    user_id, headers = sign_in(server)
    task = create_task(server, user_id, headers)
    with request_in_flight(server, database_url, user_id, headers, task):
        yield


def waiting_on_locks(engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(
            text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
        )


def wait_for(condition, seconds=30):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.05)


def raw_exchange(port: int, data: bytes, timeout: float = 5) -> tuple[bytes, str]:
    """Send `data` on a new connection and read until the server closes it; returns what was
    read and how the connection ended: "eof" (a clean close), "reset" or "timeout"."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            return received, "reset"
        except TimeoutError:
            return received, "timeout"
        return received, "eof"


def answers_in(received: bytes) -> list[tuple[int, dict, bytes]]:
    """The HTTP/1.1 answers in `received`, as (status, headers, body)."""
    found = []
    while received:
        head, _, rest = received.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", 0))
        found.append((int(status_line.split()[1]), headers, rest[:length]))
        received = rest[length:]
    return found
