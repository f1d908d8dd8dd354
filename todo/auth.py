"""Auth blueprint: sign-up, login, the current user; and the loaders that turn a token into it."""

import uuid

from flask import current_app
from flask_jwt_extended import create_access_token, current_user, jwt_required
from flask_smorest import abort
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .blueprint import Blueprint
from .errors import problem
from .extensions import db, jwt
from .models import User, utcnow
from .passwords import hash_password, needs_rehash, verify_password
from .schemas import CredentialsSchema, LoginSchema, TokenSchema, UserSchema

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Accounts and tokens")

BAD_CREDENTIALS = "Incorrect email or password."


@blp.route("/signup", methods=["POST"])
@blp.doc(security=[])
@blp.arguments(CredentialsSchema)
@blp.response(201, UserSchema)
@blp.problems(400, 409, 413, 415)
def signup(credentials):
    """Create an account; the email is trimmed and compared without case."""
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
@blp.arguments(LoginSchema)
@blp.response(200, TokenSchema)
@blp.problems(400, 401, 413, 415)
def login(credentials):
    """Exchange email and password for a bearer token (HS256 JWT)."""
    user = db.session.scalar(select(User).filter_by(email=credentials["email"]))
    if not verify_password(user and user.password_hash, credentials["password"]):
        abort(401, message=BAD_CREDENTIALS)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(credentials["password"])
        db.session.commit()
    expires_at = utcnow() + current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]
    return {
        "user_id": user.id,
        "email": user.email,
        "token": create_access_token(identity=str(user.id)),
        "token_type": "bearer",
        "expires_at": expires_at,
    }


@blp.route("/me", methods=["GET"])
@jwt_required()
@blp.response(200, UserSchema)
@blp.problems(401)
def read_me():
    """The account the token belongs to."""
    return current_user


@jwt.user_lookup_loader
def load_user(_header, payload) -> User | None:
    try:
        user_id = uuid.UUID(payload["sub"])
    except (ValueError, TypeError, AttributeError):
        return None
    return db.session.get(User, user_id)


def unauthorized(detail: str):
    return problem(401, detail, {"WWW-Authenticate": "Bearer"})


@jwt.unauthorized_loader
def missing_token(reason: str):
    return unauthorized(f"A bearer token is required: {reason}.")


@jwt.invalid_token_loader
def invalid_token(reason: str):
    return unauthorized(f"The token is invalid: {reason}.")


@jwt.expired_token_loader
def expired_token(_header, _payload):
    return unauthorized("The token has expired; log in again.")


@jwt.revoked_token_loader
def revoked_token(_header, _payload):
    return unauthorized("The token has been revoked; log in again.")


@jwt.user_lookup_error_loader
def unknown_user(_header, _payload):
    return unauthorized("The token's user no longer exists.")
