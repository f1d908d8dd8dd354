"""Throttling (Flask-Limiter): failed logins per email and per client address, sign-ups per
client address. Limits come from config in Flask-Limiter's notation; with a Redis
RATELIMIT_STORAGE_URI they hold across every worker and host.

Each app gets its own Limiter (Flask-Limiter keeps its storage and settings on the instance),
so two apps in one process, as in the tests, never share a count by accident.
"""

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address


def login_email() -> str:
    """The email a login is for, as accounts store it; a body without one shares one bucket."""
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    return email.strip().lower() if isinstance(email, str) else ""


def failed(response: Response) -> bool:
    """Only wrong credentials count against a login limit; a success costs nothing."""
    return response.status_code == 401


# endpoint -> (setting holding the limit, what is counted, which answers count)
THROTTLES = {
    "auth.login": [
        ("RATELIMIT_LOGIN_PER_EMAIL", login_email, failed),
        ("RATELIMIT_LOGIN_PER_ADDRESS", get_remote_address, failed),
    ],
    "auth.signup": [("RATELIMIT_SIGNUP_PER_ADDRESS", get_remote_address, None)],
}


def init_app(app: Flask) -> None:
    """Wrap the throttled views of `app` with the limits of a Limiter of its own."""
    limiter = Limiter(key_func=get_remote_address, app=app)
    # The limits refer to their Limiter weakly; the app keeps it, even when it is disabled.
    app.extensions["throttles"] = limiter
    for endpoint, throttles in THROTTLES.items():
        view = app.view_functions[endpoint]
        for setting, key, counts in throttles:
            limit = limiter.limit(
                lambda setting=setting: current_app.config[setting],
                key_func=key,
                deduct_when=counts,
                scope=setting,
            )
            view = limit(view)
        app.view_functions[endpoint] = view
