"""gunicorn settings, from the environment: `gunicorn -c gunicorn.conf.py wsgi:app`.

Each worker imports the app itself (no preload), so no database connection is ever opened
before the fork and shared between processes. Connections per host = WEB_CONCURRENCY x
(DB_POOL_SIZE + DB_MAX_OVERFLOW): keep that, times the number of hosts, under the server's
max_connections.
"""

import os

from gunicorn.glogging import Logger

from config import env_bool

bind = f"0.0.0.0:{os.environ.get('PORT', '4000')}"
# One worker per core this process may run on (the affinity mask, not the host's core count).
workers = int(os.environ.get("WEB_CONCURRENCY", len(os.sched_getaffinity(0))))
# Threads let a worker run Python while another request waits on the database (measured in
# bench/RESULTS.md); pool size per worker should be at least the thread count.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
preload_app = False
# Each worker listens on its own socket (SO_REUSEPORT) and the kernel spreads new connections
# over them. On one shared socket, a burst of keep-alive connections (a client's pool
# opening) could all land on whichever worker woke first, leaving the other cores idle:
# bench/RESULTS.md saw 15 of 16 on one worker, and half the throughput. The price: a second
# server started on the same port by the same user shares the traffic instead of failing.
reuse_port = env_bool("GUNICORN_REUSE_PORT", True)
timeout = 30  # a worker silent this long is killed and replaced
graceful_timeout = 30  # on SIGTERM, in-flight requests get this long to finish
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
    "formatters": {"json": {"()": "todo.access_log.JSONFormatter"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        }
    },
    "root": {"handlers": ["stderr"], "level": "INFO"},
    "loggers": {
        "gunicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}
