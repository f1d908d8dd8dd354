"""The HTTP side of serving: a gunicorn worker that reads each request whole before a thread
runs the app (server/worker.py), so slow clients cost a buffer, never a thread."""
