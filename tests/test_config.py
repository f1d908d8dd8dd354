"""Configuration from the environment: database URLs in every form deployments use, secrets."""

import multiprocessing

import pytest
from flask_migrate import upgrade

from config import (
    Config,
    DevelopmentConfig,
    TestingConfig,
    development_secret,
    normalise_database_url,
)
from settings import SettingError
from tests.databases import scratch_database
from todo import create_app
from todo.extensions import db

SECRET = "s" * 32


@pytest.mark.parametrize(
    ("given", "used"),
    [
        (
            "postgresql+asyncpg://u:p@ep-x.neon.tech/db?ssl=require",
            "postgresql+psycopg2://u:p@ep-x.neon.tech/db?sslmode=require",
        ),
        (
            "postgresql+asyncpg://u:p@host/db?sslmode=require",
            "postgresql+psycopg2://u:p@host/db?sslmode=require",
        ),
        ("postgres://u:p@host:5432/db", "postgresql+psycopg2://u:p@host:5432/db"),
        ("postgresql://u@host/db?ssl=true", "postgresql+psycopg2://u@host/db?sslmode=require"),
        ("sqlite:////tmp/todo.db", "sqlite:////tmp/todo.db"),
    ],
)
def test_database_url_forms_are_made_psycopg2_urls(given, used):
    assert normalise_database_url(given) == used


def test_the_specs_asyncpg_url_serves_requests(tmp_path):
    with scratch_database("postgresql", tmp_path) as url:
        asyncpg_url = (
            url.replace("postgresql+psycopg2://", "postgresql+asyncpg://") + "?ssl=disable"
        )
        app = create_app(TestingConfig(asyncpg_url))
        with app.app_context():
            upgrade()
            answer = app.test_client().post(
                "/api/auth/signup", json={"email": "a@example.com", "password": "password123"}
            )
            assert answer.status_code == 201
            db.engine.dispose()


def test_database_url_defaults_to_sqlite_in_instance(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("JWT_SECRET_KEY", SECRET)
    assert Config().SQLALCHEMY_DATABASE_URI.endswith("/instance/todo.db")


@pytest.mark.parametrize("secret", [None, "", "short", "<your-secret-here>" + "x" * 20])
def test_production_refuses_to_start_without_a_real_secret(monkeypatch, secret):
    monkeypatch.delenv("BETTER_AUTH_SECRET", raising=False)
    monkeypatch.delenv("JWT_SECRET_KEY", raising=False)
    if secret is not None:
        monkeypatch.setenv("JWT_SECRET_KEY", secret)
    with pytest.raises(SettingError, match="JWT_SECRET_KEY"):
        Config()


def test_better_auth_secret_is_accepted(monkeypatch):
    monkeypatch.delenv("JWT_SECRET_KEY", raising=False)
    monkeypatch.setenv("BETTER_AUTH_SECRET", SECRET)
    assert Config().JWT_SECRET_KEY == SECRET


def test_configured_secret_wins_in_development(monkeypatch):
    monkeypatch.setenv("JWT_SECRET_KEY", SECRET)
    assert DevelopmentConfig().JWT_SECRET_KEY == SECRET


def secret_when_released(barrier, directory, answers):
    barrier.wait()
    answers.put(development_secret(directory))


def test_development_secret_is_generated_once_for_every_worker(tmp_path):
    """Eight processes released at once, as gunicorn's workers start, all read one secret."""
    context = multiprocessing.get_context("fork")
    barrier, answers = context.Barrier(8), context.Queue()
    workers = [
        context.Process(target=secret_when_released, args=(barrier, tmp_path, answers))
        for _ in range(8)
    ]
    for worker in workers:
        worker.start()
    secrets = {answers.get(timeout=10) for _ in workers}
    for worker in workers:
        worker.join()
    assert len(secrets) == 1
    assert len(secrets.pop()) >= 32
    assert [path.name for path in tmp_path.iterdir()] == ["jwt-secret"]


def test_a_sqlite_file_in_a_directory_that_does_not_exist_is_refused_in_one_line(tmp_path):
    missing = tmp_path / "not-made" / "todo.db"
    with pytest.raises(SettingError, match=r"^DATABASE_URL=.* the directory .*not-made"):
        Config(f"sqlite:///{missing}")
