"""Unbound extension singletons, imported by every module that needs one."""

import sqlite3

from flask_cors import CORS
from flask_jwt_extended import JWTManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

from .errors import ProblemApi

# Deterministic constraint names, so migrations can drop and alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Objects keep their values after commit: every value is set by the app, no refresh needed.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
jwt = JWTManager()
api = ProblemApi()
cors = CORS()


@event.listens_for(Engine, "connect")
def tune_sqlite(dbapi_connection, _record):
    """SQLite enforces foreign keys (ON DELETE CASCADE) only when asked, per connection;
    WAL and a busy timeout let several gunicorn workers share the file; and its lower()
    folds only ASCII, so Python's replaces it for case-insensitive search ("Äpfel")."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        for pragma in ("foreign_keys = ON", "journal_mode = WAL", "busy_timeout = 5000"):
            dbapi_connection.execute(f"PRAGMA {pragma}")
        dbapi_connection.create_function("lower", 1, unicode_lower, deterministic=True)


def unicode_lower(value):
    return value.lower() if isinstance(value, str) else value
