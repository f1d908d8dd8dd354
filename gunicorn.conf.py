"""gunicorn settings, from the environment: `gunicorn -c gunicorn.conf.py wsgi:app`."""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '4000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 30
graceful_timeout = 30
keepalive = 5
accesslog = None
