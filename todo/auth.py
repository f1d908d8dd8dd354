"""Auth blueprint: sign-up, login, logout, password change, the current account."""

from flask import request
from flask_jwt_extended import get_jwt, jwt_required
from flask_smorest import abort
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from .blueprint import Blueprint
from .database import transaction
from .extensions import db
from .models import User, tasks, users
from .passwords import hash_password, needs_rehash, verify_password
from .schemas import (
    CredentialsSchema,
    LoginSchema,
    PasswordChangeSchema,
    PasswordCheckSchema,
    TokenSchema,
    UserSchema,
)
from .throttles import (
    LOGIN_PER_ADDRESS,
    LOGIN_PER_EMAIL,
    LOGIN_PER_EMAIL_AND_ADDRESS,
    PASSWORD_CHECK_PER_USER,
    SIGNUP_PER_ADDRESS,
    attempt,
)
from .tokens import current_account, issue_token, revoke, user_gone

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Accounts and tokens")

BAD_CREDENTIALS = "Incorrect email or password."
BAD_PASSWORD = "The password is incorrect."


@blp.after_request
def never_cache(response):
    """Tokens and account data must not linger in a browser or proxy cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


def require_password(password: str) -> User:
    """The account, once its password is given again before a change that cannot be undone
    (401 if wrong); wrong passwords are throttled per account, so a stolen token cannot be
    used to guess the password."""
    user = current_account()
    with attempt((PASSWORD_CHECK_PER_USER, str(user.id))) as counted:
        if not verify_password(user.password_hash, password):
            counted.keep()
            abort(401, message=BAD_PASSWORD)
    return user


def client_address() -> str:
    """The client's address (the one our proxies saw, with TRUSTED_PROXIES set)."""
    return request.remote_addr or ""


@blp.route("/signup", methods=["POST"])
@blp.doc(security=[])
@blp.arguments(CredentialsSchema())
@blp.response(201, UserSchema)
@blp.problems(400, 409, 413, 415, 429, 503)
def signup(credentials):
    """Create an account; the email is trimmed and compared without case.

    Throttled per client address (`RATELIMIT_SIGNUP_PER_ADDRESS`).
    """
    with attempt((SIGNUP_PER_ADDRESS, client_address())) as counted:
        counted.keep()  # every sign-up counts, whether its email was free or not
    user = User(email=credentials["email"], password_hash=hash_password(credentials["password"]))
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        abort(409, message="An account with this email already exists.")
    return user


@blp.route("/login", methods=["POST"])
@blp.doc(security=[])
@blp.arguments(LoginSchema())
@blp.response(200, TokenSchema)
@blp.problems(400, 401, 413, 415, 429, 503)
def login(credentials):
    """Exchange email and password for a bearer token (HS256 JWT).

    Failed attempts are throttled per email and client address, per email and per client
    address (the bounds are in the README); successful ones are not counted.
    """
    email, address = credentials["email"], client_address()
    checks = (
        (LOGIN_PER_EMAIL_AND_ADDRESS, f"{email} {address}"),
        (LOGIN_PER_EMAIL, email),
        (LOGIN_PER_ADDRESS, address),
    )
    with attempt(*checks) as counted:
        user = db.session.scalar(select(User).filter_by(email=email))
        if not verify_password(user and user.password_hash, credentials["password"]):
            counted.keep()
            abort(401, message=BAD_CREDENTIALS)
    if needs_rehash(user.password_hash):
        # Only over the hash just checked: a password changed meanwhile must stay changed.
        db.session.execute(
            update(User)
            .where(User.id == user.id, User.password_hash == user.password_hash)
            .values(password_hash=hash_password(credentials["password"]))
        )
    return {"user_id": user.id, "email": user.email, **issue_token(user)}


@blp.route("/logout", methods=["POST"])
@jwt_required()
@blp.response(204)
@blp.problems(401, 503)
def logout():
    """Revoke the token this request carries, on every server, from now on."""
    current_account()  # a token already refused stays a 401
    try:
        revoke(get_jwt())
        db.session.commit()
    except IntegrityError:  # a concurrent logout of this token, or of its deleted user
        db.session.rollback()


@blp.route("/password", methods=["PUT"])
@jwt_required()
@blp.arguments(PasswordChangeSchema())
@blp.response(204)
@blp.problems(400, 401, 413, 415, 503)
def change_password(passwords):
    """Change the password; every token issued before (this one included) stops working."""
    user = require_password(passwords["current_password"])
    user.password_hash = hash_password(passwords["new_password"])
    user.token_generation = User.token_generation + 1
    try:
        db.session.commit()
    except StaleDataError:  # the account was deleted meanwhile
        user_gone()


@blp.route("/me", methods=["GET"])
@jwt_required()
@blp.response(200, UserSchema)
@blp.problems(401, 503)
def read_me():
    """The account the token belongs to."""
    return current_account()


@blp.route("/me", methods=["DELETE"])
@jwt_required()
@blp.arguments(PasswordCheckSchema())
@blp.response(204)
@blp.problems(400, 401, 413, 415, 503)
def delete_me(check):
    """Delete the account and every task of it, after checking the password again."""
    user = require_password(check["password"])
    # Tasks first, then the account, in one transaction: the order in which every task write
    # takes its locks (the task, then through the counters' trigger the user), so the two
    # never deadlock.
    with transaction():
        for table, column in ((tasks, "user_id"), (users, "id")):
            db.session.execute(delete(table).where(table.c[column] == user.id))
