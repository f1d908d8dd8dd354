"""`flask todo purge`: every user's expired revocations and idempotency keys go, the rest stay."""

import uuid
from datetime import timedelta

from sqlalchemy import func, select

from todo.accounts.models import RevokedToken
from todo.columns import utcnow
from todo.extensions import db
from todo.idempotency import KEEP_FOR, IdempotencyKey


def test_purge_forgets_only_what_expired(app, user, other_user, client):
    for account in (user, other_user):
        url = f"/api/{account['user_id']}/tasks"
        for key in ("old", "new"):
            headers = {**account["headers"], "Idempotency-Key": key}
            assert client.post(url, json={"title": key}, headers=headers).status_code == 201
        assert client.post("/api/auth/logout", headers=account["headers"]).status_code == 204
    with app.app_context():
        long_ago = utcnow() - KEEP_FOR - timedelta(minutes=1)
        db.session.execute(
            IdempotencyKey.__table__.update()
            .where(IdempotencyKey.key == "old")
            .values(created_at=long_ago)
        )
        db.session.execute(
            RevokedToken.__table__.update()
            .where(RevokedToken.user_id == uuid.UUID(user["user_id"]))
            .values(expires_at=long_ago)
        )
        db.session.commit()
    purged = app.test_cli_runner().invoke(args=["todo", "purge"])
    assert purged.exit_code == 0, purged.output
    assert purged.output == (
        "purged 0 expired tasks and 0 expired lists from the trash, "
        "forgot 1 expired revocations and 2 expired idempotency keys\n"
    )
    with app.app_context():
        keys = db.session.scalars(select(IdempotencyKey.key)).all()
        revoked = db.session.scalar(select(func.count()).select_from(RevokedToken))
    assert sorted(keys) == ["new", "new"]
    assert revoked == 1
