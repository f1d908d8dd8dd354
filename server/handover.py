"""A reload (SIGHUP) without a gap in serving: the workers it replaces serve on until their
replacements have loaded the app.

gunicorn's reload forks the new workers and at once sends the old ones SIGTERM. A worker
loads the app after it is forked (no preload, so no database connection is shared), which
takes a second or two, more on a busy host; the old workers had stopped accepting by then
(at once with DRAIN_SECONDS=0), and new connections waited in the listen queue: 1.6 s on an
idle machine, up to 19 s on a busy one. So:

- as a reload begins (gunicorn's `on_reload` hook), the arbiter notes the age of the newest
  worker it replaces and how many workers it will run;
- each worker notes when it has loaded the app (`post_worker_init`);
- a worker whose SIGTERM comes from a reload (it is no younger than the noted age) serves on
  until that many younger workers are ready, or gunicorn's `timeout` has passed (by then the
  arbiter has killed any that did not boot), then drains and stops as on any SIGTERM. A
  second SIGTERM (the server stopping meanwhile) ends the wait.

The notes are files in a directory of the arbiter's, named by an environment variable the
workers inherit.
"""

import os
import shutil
import tempfile
from pathlib import Path

VARIABLE = "TODO_HANDOVER_DIR"
REPLACING = "replacing"  # "<age of the newest worker replaced> <workers to come>"
READY = "ready-"  # + the age of a worker that has loaded the app


def prepare() -> None:
    """The arbiter's notes directory (once: gunicorn.conf.py runs again at each reload)."""
    if VARIABLE not in os.environ:
        os.environ[VARIABLE] = tempfile.mkdtemp(prefix="todo-handover-")


def reloading(arbiter) -> None:
    note(REPLACING, f"{arbiter.worker_age} {arbiter.num_workers}")


def loaded(worker) -> None:
    note(f"{READY}{worker.age}", "")


def exited(worker) -> None:
    Path(os.environ[VARIABLE], f"{READY}{worker.age}").unlink(missing_ok=True)


def remove() -> None:
    shutil.rmtree(os.environ[VARIABLE], ignore_errors=True)


def note(name: str, text: str) -> None:
    """Written whole or not at all: a worker may read it at any moment."""
    directory = os.environ[VARIABLE]
    with tempfile.NamedTemporaryFile("w", dir=directory, delete=False) as scratch:
        scratch.write(text)
    os.replace(scratch.name, os.path.join(directory, name))


def replacement(age: int) -> tuple[int, int] | None:
    """(the age of the newest worker a reload replaces, how many workers it runs) when it
    replaces the worker of this age; None when that worker's SIGTERM is a stop."""
    try:
        newest, workers = Path(os.environ[VARIABLE], REPLACING).read_text().split()
    except (KeyError, FileNotFoundError):
        return None
    return (int(newest), int(workers)) if age <= int(newest) else None


def ready_after(age: int) -> int:
    """How many workers younger than `age` have loaded the app."""
    names = os.listdir(os.environ[VARIABLE])
    return sum(1 for name in names if name.startswith(READY) and int(name[len(READY) :]) > age)
