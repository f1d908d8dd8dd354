"""The WSGI entry point: `gunicorn wsgi:app`, and what `flask …` finds from the repo root.

`flask` commands other than `flask run` and `flask todo deliver` (whose webhooks carry feed
cursors, signed with it) never sign or check a token, so they run with the database settings
alone (no JWT secret needed to migrate)."""

import os
import sys

from config import config_from_env
from logs import exit_on_setting_error


def serves_requests() -> bool:
    under_flask_cli = os.environ.get("FLASK_RUN_FROM_CLI") == "true"
    words = [word for word in sys.argv[1:] if not word.startswith("-")]
    return not under_flask_cli or words[:1] == ["run"] or words[:2] == ["todo", "deliver"]


with exit_on_setting_error():
    config = config_from_env(signs_tokens=serves_requests())

# The app's modules only once every setting is known to be good: a bad one stops the process
# with its line before seconds of imports.
from todo import create_app  # noqa: E402

app = create_app(config)
