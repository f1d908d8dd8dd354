"""Throttling (Flask-Limiter): failed logins per email and per client address, sign-ups per
client address. Limits come from config in Flask-Limiter's notation; with a Redis
RATELIMIT_STORAGE_URI they hold across every worker and host.

A login attempt is counted before its password is checked (an atomic increment), so however
many guesses arrive at once, no more than the limit are ever checked; a login that succeeds
then gives its count back. (Counting only after a failure would let every guess in flight
through.) Each app gets its own Limiter: Flask-Limiter keeps its storage and settings on the
instance, so two apps in one process, as in the tests, never share a count by accident.
"""

import logging

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

log = logging.getLogger(__name__)


def login_email() -> str:
    """The email a login is for, as accounts store it; a body without one shares one bucket."""
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    return email.strip().lower() if isinstance(email, str) else ""


# endpoint -> (setting holding the limit, what is counted)
THROTTLES = {
    "auth.login": [
        ("RATELIMIT_LOGIN_PER_EMAIL", login_email),
        ("RATELIMIT_LOGIN_PER_ADDRESS", get_remote_address),
    ],
    "auth.signup": [("RATELIMIT_SIGNUP_PER_ADDRESS", get_remote_address)],
}


def refund_successful_login(response: Response) -> Response:
    """A login that succeeds gives back the attempt it was counted as: successes never count."""
    if request.endpoint == "auth.login" and response.status_code == 200:
        limiter = current_app.extensions["throttles"]
        try:
            for counted in limiter.current_limits:
                counted.limiter.storage.incr(counted.key, counted.limit.get_expiry(), amount=-1)
        except Exception:  # the storage is away: the login stands, the count stays
            log.warning("could not give back a successful login's count", exc_info=True)
    return response


def init_app(app: Flask) -> None:
    """Wrap the throttled views of `app` with the limits of a Limiter of its own."""
    limiter = Limiter(key_func=get_remote_address, app=app)
    # Every limit here is a view's own decorator, checked inside that view. Flask-Limiter's
    # app-wide before_request hook (absent when disabled) only adds default and application
    # limits, which this app has none of: it cost every request ~40 us to find nothing.
    hooks = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit in hooks:
        hooks.remove(limiter._check_request_limit)
    # The limits refer to their Limiter weakly; the app keeps it, even when it is disabled.
    app.extensions["throttles"] = limiter
    for endpoint, throttles in THROTTLES.items():
        view = app.view_functions[endpoint]
        for setting, key in throttles:
            limit = limiter.limit(
                lambda setting=setting: current_app.config[setting], key_func=key, scope=setting
            )
            view = limit(view)
        app.view_functions[endpoint] = view
    app.after_request(refund_successful_login)
