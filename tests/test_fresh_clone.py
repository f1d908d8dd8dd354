"""The README's first command, `make run`, from what a fresh clone holds: the tracked files
only (no instance/, no database, no .env), with the virtual environment this suite runs in
(installed already, so the test stays quick)."""

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from tests.servers import ROOT, Server, create_task, sign_in, wait_for
from tests.tcp_proxy import free_port


class MakeRun:
    """`make run` in `checkout`, as a newcomer types it."""

    def __init__(self, checkout: Path, log_path: Path):
        self.port = free_port()
        self.log = log_path.open("w")
        # Only what a login shell has: no DATABASE_URL, no secret, no test settings.
        environment = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
        self.process = subprocess.Popen(
            ["make", "run", f"PORT={self.port}"],
            cwd=checkout,
            env=environment,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # make and the gunicorn it execs, stopped together
        )

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(60)
        self.log.close()


class ServerOn:
    """A server started some other way, on `port`, called as tests/servers.Server is."""

    call = Server.call

    def __init__(self, port: int):
        self.port = port


def tracked_files_copy(destination: Path) -> Path:
    """The files git tracks, as they are in this working tree, with their times (so make sees
    the installed environment as newer than requirements.txt, as after a clone and install)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        source, target = ROOT / name, destination / name
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target, follow_symlinks=False)
    (destination / ".venv").symlink_to(Path(sys.prefix))
    return destination


def test_make_run_serves_from_a_fresh_clone(tmp_path):
    checkout = tracked_files_copy(tmp_path / "clone")
    assert not (checkout / "instance").exists() and not (checkout / ".env").exists()
    served = MakeRun(checkout, tmp_path / "make-run.log")
    server = ServerOn(served.port)
    try:

        def answering() -> bool:
            assert served.process.poll() is None, (tmp_path / "make-run.log").read_text()
            try:
                return server.call("GET", "/healthz")[0] == 200
            except OSError:
                return False

        wait_for(answering, seconds=120)
        user_id, headers = sign_in(server)
        assert create_task(server, user_id, headers, "From a fresh clone")["title"] == (
            "From a fresh clone"
        )
    finally:
        served.stop()
    assert (checkout / "instance" / "todo.db").is_file()
