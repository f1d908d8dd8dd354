"""argon2id password hashing with parameters from config, and a dummy hash for timing."""

import secrets

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, current_app


def init_app(app: Flask) -> None:
    hasher = PasswordHasher(
        time_cost=app.config["ARGON2_TIME_COST"],
        memory_cost=app.config["ARGON2_MEMORY_COST"],
        parallelism=app.config["ARGON2_PARALLELISM"],
        type=Type.ID,
    )
    # Verified against when the email is unknown, so that answer takes as long as a wrong password.
    app.extensions["passwords"] = (hasher, hasher.hash(secrets.token_urlsafe(16)))


def hash_password(password: str) -> str:
    hasher, _ = current_app.extensions["passwords"]
    return hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True only for the right password; an absent hash costs the same time and fails."""
    hasher, dummy = current_app.extensions["passwords"]
    try:
        return hasher.verify(password_hash or dummy, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than today's config."""
    hasher, _ = current_app.extensions["passwords"]
    return hasher.check_needs_rehash(password_hash)
