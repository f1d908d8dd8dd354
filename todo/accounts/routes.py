"""Auth blueprint: sign-up, login, logout, password change, the current account; and the
check that every route not marked public runs for a caller with a valid token."""

import uuid

from flask import current_app, g, request
from flask_jwt_extended import get_jwt, verify_jwt_in_request
from flask_smorest import abort

from ..blueprint import Blueprint
from ..budgets import spend_budget
from ..holding import also_wake, wake_after_write
from ..sharing import access
from ..tasks.writes import place_reminders
from ..throttles import (
    LOGIN_PER_ADDRESS,
    LOGIN_PER_EMAIL,
    LOGIN_PER_EMAIL_AND_ADDRESS,
    LOGINS_PER_ADDRESS,
    PASSWORD_CHECK_PER_USER,
    SIGNUP_PER_ADDRESS,
    attempt,
)
from . import examples
from .models import User
from .passwords import hash_password, needs_rehash, verify_password
from .schemas import (
    CredentialsSchema,
    LoginSchema,
    PasswordChangeSchema,
    PasswordCheckSchema,
    ProfileChangesSchema,
    TokenSchema,
    UserSchema,
)
from .store import (
    create_account,
    delete_account,
    find_account,
    load_account,
    log_out,
    replace_hash,
    set_password,
    set_timezone,
)
from .tokens import Caller, bearer_of, expiry, issue_token
from .verified_tokens import remember, remembered

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Accounts and tokens")

BAD_CREDENTIALS, BAD_PASSWORD = examples.BAD_CREDENTIALS, examples.BAD_PASSWORD


@blp.after_request
def never_cache(response):
    """Tokens and account data must not linger in a browser or proxy cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


def require_token():
    """Before every request: a route is public only if it says so (`Blueprint.public`); any
    other needs a valid bearer token (401), whose caller the views then find in `g.caller`,
    and spends a unit of the caller's request budget (429 past it: todo/budgets.py); a write
    will wake its user's held requests (todo/holding.py).
    Whether the token still stands is checked by the route's own statement."""
    this = request._get_current_object()  # read several times: the proxy looked up once
    app = current_app._get_current_object()
    endpoint = this.endpoint
    view = app.view_functions.get(endpoint)
    if this.method == "OPTIONS" or view is None or getattr(view, "is_public", False):
        return
    authorization = this.environ.get("HTTP_AUTHORIZATION")
    bearer = remembered(authorization)
    if bearer is None:
        verify_jwt_in_request()  # raises for any token it does not accept
        claims = get_jwt()
        bearer = remember(authorization, claims["exp"], bearer_of(claims))
    # the caller for the views, its id for the request's log line
    context = g._get_current_object()
    context.claims, context.caller, context.user_id = bearer
    spend_budget(app, context, this, endpoint)  # 429 past the caller's request budget
    wake_after_write(this)  # a write wakes its user's held requests once answered


def require_url_user():
    """Before every route under /api/<user_id>/: the caller (a valid token: `require_token`)
    is the URL's user (403), or a member of a list the URL's user shares with them, on the
    routes a member may use (the tasks', a batch, reading the list: `as_member`). Whether the
    token is still current is checked by the route's own statement. A member's read of one
    list's tasks asks whether it is shared with them in its own statement (`member_reading`)."""
    if request.method == "OPTIONS":
        return
    space = request.view_args["user_id"]
    if g.caller.actor_id != space:
        list_id = listed_by_member(space)
        if list_id is not None:
            g.caller = access.member_reading(g.caller, space, list_id)  # token: with the page
        else:
            g.caller = as_member(member_in(space))


def member_in(space) -> Caller:
    """The caller as a member of the lists the URL's user shares with them; 403 if none is,
    or on a route a member may not use."""
    member = None
    if not isinstance(space, str) and member_route(request.endpoint):  # a user id
        member = access.member_caller(g.caller, space)  # checks the token first (401)
    if member is None:
        load_account(g.caller)  # a token that is not current is 401 before it is 403
        abort(403, message=access.FOREIGN_SPACE)
    return member


def listed_by_member(space) -> uuid.UUID | None:
    """The list whose tasks the caller asks for in another user's space, when this request
    is that read alone (GET of the task list with a `list_id`); else None."""
    if request.endpoint != "tasks.list_tasks" or request.method not in ("GET", "HEAD"):
        return None
    named = request.args.get("list_id")
    if named is None or isinstance(space, str):
        return None
    try:
        return uuid.UUID(named)
    except ValueError:
        return None  # the query's own check answers 400


def member_route(endpoint: str) -> bool:
    """Whether a member may reach this route in the owner's space (docs/sharing.md): the
    tasks', the batch, and the lists' (reading one; the others answer OwnerOnly)."""
    return endpoint.startswith(("tasks.", "lists.")) or endpoint == "sync.run_batch"


def as_member(member):
    """The member's caller for this request: a read of a shared list, or any task route (a
    write as an editor: access.writer); the owner's other list routes are OwnerOnly (403)."""
    if request.blueprint == "lists":
        if request.endpoint != "lists.read_list":
            raise access.OwnerOnly()
        access.readable_list(member, request.view_args["list_id"])
        return member
    if request.method in ("GET", "HEAD") or request.endpoint == "sync.run_batch":
        return member  # a batch: as each operation's route (sync/batch.py)
    return access.writer(member, request.view_args.get("task_id"))


def require_url_user_of_token():
    """`require_url_user`, for a blueprint with public routes too (which check their own)."""
    if "caller" in g:
        require_url_user()


def require_password(password: str) -> User:
    """The account, once its password is given again before a change that cannot be undone
    (401 if wrong); wrong passwords are throttled per account, so a stolen token cannot be
    used to guess the password."""
    user = load_account(g.caller)
    with attempt((PASSWORD_CHECK_PER_USER, str(user.id))) as counted:
        if not verify_password(user.password_hash, password):
            counted.keep()
            abort(401, message=BAD_PASSWORD)
    return user


def client_address() -> str:
    """The client's address (the one our proxies saw, with TRUSTED_PROXIES set)."""
    return request.remote_addr or ""


@blp.route("/signup", methods=["POST"])
@blp.public
@blp.arguments(CredentialsSchema(), examples=examples.SIGNUP)
@blp.response(201, UserSchema)
@blp.problems(400, 409, 413, 415, 429, 503, examples=examples.SIGNUP_PROBLEMS)
def signup(credentials):
    """Create an account; the email is trimmed and compared without case.

    Throttled per client address (`RATELIMIT_SIGNUP_PER_ADDRESS`).
    """
    with attempt((SIGNUP_PER_ADDRESS, client_address())) as counted:
        counted.keep()  # every sign-up counts, whether its email was free or not
    return create_account(credentials["email"], hash_password(credentials["password"]))


@blp.route("/login", methods=["POST"])
@blp.public
@blp.arguments(LoginSchema(), examples=examples.LOGIN)
@blp.response(200, TokenSchema)
@blp.problems(400, 401, 413, 415, 429, 503, examples=examples.LOGIN_PROBLEMS)
def login(credentials):
    """Exchange email and password for a bearer token (HS256 JWT).

    Failed attempts are throttled per email and client address, per email and per client
    address (the bounds are in docs/security.md); every attempt, failed or not, per client address
    (`RATELIMIT_LOGINS_PER_ADDRESS`), since each costs a password hash.
    """
    email, address = credentials["email"], client_address()
    with attempt((LOGINS_PER_ADDRESS, address)) as counted:
        counted.keep()
    checks = (
        (LOGIN_PER_EMAIL_AND_ADDRESS, f"{email} {address}"),
        (LOGIN_PER_EMAIL, email),
        (LOGIN_PER_ADDRESS, address),
    )
    with attempt(*checks) as counted:
        user = find_account(email)
        if not verify_password(user and user.password_hash, credentials["password"]):
            counted.keep()
            abort(401, message=BAD_CREDENTIALS)
    if needs_rehash(user.password_hash):
        replace_hash(user, user.password_hash, hash_password(credentials["password"]))
    return {"user_id": user.id, "email": user.email, **issue_token(user)}


@blp.route("/logout", methods=["POST"])
@blp.response(204)
@blp.problems(401, 503)
def logout():
    """Log out: revoke this token.

    The token this request carries is refused from now on, on every server, until it would
    have expired anyway; the account's other tokens stay valid.
    """
    load_account(g.caller)  # a token already refused stays a 401
    log_out(g.caller, expiry(g.claims))


@blp.route("/password", methods=["PUT"])
@blp.arguments(PasswordChangeSchema(), examples=examples.PASSWORD_CHANGE)
@blp.response(204)
@blp.problems(400, 401, 413, 415, 429, 503, examples=examples.WRONG_PASSWORD_PROBLEMS)
def change_password(passwords):
    """Change the password.

    The current password is checked again (401 if wrong; wrong ones are throttled per
    account). Every token issued before, this one included, stops working: log in again.
    """
    user = require_password(passwords["current_password"])
    set_password(user, hash_password(passwords["new_password"]))


@blp.route("/me", methods=["GET"])
@blp.response(200, UserSchema)
@blp.problems(401, 503)
def read_me():
    """Read the account the token belongs to.

    Its id, email, creation time and time zone (null: UTC).
    """
    return load_account(g.caller)


@blp.route("/me", methods=["PATCH"])
@blp.arguments(ProfileChangesSchema(), examples=examples.PROFILE_CHANGES)
@blp.response(200, UserSchema)
@blp.problems(400, 401, 413, 415, 503, examples=examples.PROFILE_PROBLEMS)
def change_me(changes):
    """Change the account's time zone.

    The zone is where the user's today and overdue are, and where their all-day and floating
    due dates fall (and so those tasks' reminders, which move with it).
    """
    user = set_timezone(g.caller, changes["timezone"])
    place_reminders(g.caller, changes["timezone"])
    return user


@blp.route("/me", methods=["DELETE"])
@blp.arguments(PasswordCheckSchema(), examples=examples.PASSWORD_CHECK)
@blp.response(204)
@blp.problems(400, 401, 413, 415, 429, 503, examples=examples.WRONG_PASSWORD_PROBLEMS)
def delete_me(check):
    """Delete the account.

    The password is checked again (401 if wrong); then the account, its tasks, lists and
    labels are deleted for good, and its tokens stop working.
    """
    also_wake(delete_account(require_password(check["password"])))
