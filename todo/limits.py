"""Throttling (Flask-Limiter): failed logins per email and per client address, sign-ups per
client address. Limits come from config in Flask-Limiter's notation; with a Redis
RATELIMIT_STORAGE_URI they hold across every worker and host."""

from flask import Response, current_app, request
from flask_limiter.util import get_remote_address

from .extensions import limiter


def login_email() -> str:
    """The email a login is for, as accounts store it; a body without one shares one bucket."""
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    return email.strip().lower() if isinstance(email, str) else ""


def failed(response: Response) -> bool:
    """Only wrong credentials count against a login limit; a success costs nothing."""
    return response.status_code == 401


def configured(name: str):
    return lambda: current_app.config[name]


failed_logins_per_email = limiter.limit(
    configured("RATELIMIT_LOGIN_PER_EMAIL"),
    key_func=login_email,
    deduct_when=failed,
    scope="login-email",
)
failed_logins_per_address = limiter.limit(
    configured("RATELIMIT_LOGIN_PER_ADDRESS"),
    key_func=get_remote_address,
    deduct_when=failed,
    scope="login-address",
)
signups_per_address = limiter.limit(
    configured("RATELIMIT_SIGNUP_PER_ADDRESS"), key_func=get_remote_address, scope="signup"
)
