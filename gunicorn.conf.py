"""gunicorn settings, from the environment: `python -m server` (server/__main__.py), which is
`gunicorn -c gunicorn.conf.py wsgi:app` once every setting has been checked.

Each worker imports the app itself (no preload), so no database connection is ever opened
before the fork and shared between processes. Connections per host = WEB_CONCURRENCY x
(DB_POOL_SIZE + DB_MAX_OVERFLOW): keep that, times the number of hosts, under the server's
max_connections.
"""

import os
import sys
from pathlib import Path

from gunicorn.glogging import Logger

# The project's modules, whatever directory gunicorn was started from (--chdir applies later).
sys.path.insert(0, str(Path(__file__).resolve().parent))

from logs import batch_lines, exit_on_setting_error
from server import handover, metrics_files
from settings import value

with exit_on_setting_error():
    if value("METRICS_TOKEN"):
        # Every worker counts into files here, and a scrape adds them up (todo/metrics.py).
        # Set before prometheus_client is first imported (it picks its storage then) and
        # before the workers are forked.
        given = value(metrics_files.VARIABLE)
        os.environ[metrics_files.VARIABLE] = metrics_files.prepare(given)
    else:
        os.environ.pop(metrics_files.VARIABLE, None)  # nothing counts, into no files

    from config import config_from_env

    # Every setting the app will read, checked once here, before any worker starts: a bad
    # one stops the server with one line instead of workers failing to boot one by one.
    config_from_env()
    bind = f"0.0.0.0:{value('PORT')}"
    # One worker per core this process may run on (the affinity mask, not the host's cores).
    workers = value("WEB_CONCURRENCY") or len(os.sched_getaffinity(0))
    # Threads let a worker run Python while another request waits on the database; past two,
    # they mostly take the GIL from each other (measured in bench/RESULTS.md). Pool size per
    # worker should be at least the thread count.
    threads = value("GUNICORN_THREADS")
    # Opt-in: each worker listens on its own socket (SO_REUSEPORT) and the kernel spreads new
    # connections over them. Off by default because with it, in gunicorn 27, a reload (SIGHUP)
    # or a replaced worker resets the connections queued on its socket, a taken port makes
    # workers fail forever instead of the server exiting, and a second server on the same
    # port shares the traffic instead of failing to bind.
    reuse_port = value("GUNICORN_REUSE_PORT")
    # On SIGTERM a worker serves on for DRAIN_SECONDS (its /readyz answering 503), then
    # requests in flight get 30 s to finish.
    graceful_timeout = int(value("DRAIN_SECONDS")) + 30
    # Held polls and streams are connections too (server/live.py): room for them besides
    # gunicorn's default 1,000 others.
    worker_connections = value("LIVE_PER_WORKER") + 1000
    loglevel = value("LOG_LEVEL")
handover.prepare()


def on_starting(_server):
    """Once, as the arbiter starts (a reload's workers count on): the counts of an earlier run
    leave the metrics directory."""
    if metrics_files.VARIABLE in os.environ:
        metrics_files.remove_earlier_counts(os.environ[metrics_files.VARIABLE])


def on_reload(server):
    """The workers a reload replaces serve on until the new ones are ready (server/handover.py)."""
    handover.reloading(server)


def post_worker_init(worker):
    """A worker has loaded the app: it says so (server/handover.py), and writes its log lines
    in batches from now, each within a second (logs.py: BatchedLines); warnings and errors at
    once."""
    batch_lines(seconds=1.0)
    handover.loaded(worker)


def child_exit(_server, worker):
    """A worker that is gone is no longer ready to take over, and no longer counts in the
    gauges of requests and connections."""
    handover.exited(worker)
    if metrics_files.VARIABLE in os.environ:
        from prometheus_client import multiprocess  # here: only once the directory is set

        multiprocess.mark_process_dead(worker.pid)


def on_exit(_server):
    handover.remove()


# gthread's design with one change: the worker's main thread reads each request whole before
# a thread runs it, so slow clients cannot hold threads (server/worker.py).
worker_class = "server.worker.BufferingWorker"
preload_app = False
# gunicorn 27's control socket would be one path per user, shared by every instance on the
# host; nothing here uses it.
control_socket_disable = True
timeout = 30  # a worker silent this long is killed and replaced
keepalive = 5
# The app logs one JSON line per request itself; gunicorn's own messages are JSON too.
accesslog = None


class ServerLogger(Logger):
    """gunicorn's logger, without its access log: the app writes each request's line itself.

    Given a logconfig_dict, gunicorn would otherwise build its access-log fields for every
    request (~5% of a worker's time under load) only to drop them.
    """

    def access(self, resp, req, environ, request_time):
        pass


logger_class = ServerLogger
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "logs.JSONFormatter"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        }
    },
    # LOG_LEVEL from the first line: gunicorn's own lines, and the app's as it is imported.
    "root": {"handlers": ["stderr"], "level": loglevel.upper()},
    "loggers": {
        "gunicorn.error": {"handlers": ["stderr"], "level": loglevel.upper(), "propagate": False},
    },
}
