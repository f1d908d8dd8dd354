"""The WSGI entry point: `gunicorn wsgi:app`, and what `flask db …` finds from the repo root."""

from todo import create_app

app = create_app()
