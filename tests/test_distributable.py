"""The rules that let Citus distribute the schema by user with no rewrite, and let a
transaction-mode pooler sit in front, kept without Citus: read from the migrated schema and
from the SQL the app really sends during a walkthrough (docs/scaling-out.md)."""

import re
import uuid

from sqlalchemy import inspect, text

from tests.conftest import PASSWORD, assert_problem
from todo.cli import DISTRIBUTION
from todo.extensions import db

# Each table's distribution column, as `flask todo distribute` spreads it.
DISTRIBUTED_BY = {table: column for table, column, _ in DISTRIBUTION}
NOT_DISTRIBUTED = {"alembic_version"}
TABLE_REFERENCE = re.compile(r"\b(?:FROM|JOIN|UPDATE|INTO)\s+(\w+)", re.IGNORECASE)
INSERTED_COLUMNS = re.compile(r"^INSERT INTO (\w+) \(([^)]*)\)", re.IGNORECASE)
VOLATILE = re.compile(r"clock_timestamp|\bnow\(|current_timestamp|random\(|gen_random", re.I)
SESSION_STATE = re.compile(r"^\s*(SET|RESET|PREPARE|LISTEN|DECLARE|DISCARD)\b|advisory", re.I)


def schema_rule_breaks(schema) -> list[str]:
    """Every key and unique constraint of a table starts with its distribution column."""
    breaks = []
    tables = set(schema.get_table_names()) - NOT_DISTRIBUTED
    if unknown := tables - DISTRIBUTED_BY.keys():
        breaks.append(f"tables without a distribution column here: {sorted(unknown)}")
    for table in sorted(tables & DISTRIBUTED_BY.keys()):
        column = DISTRIBUTED_BY[table]
        keys = [("primary key", schema.get_pk_constraint(table)["constrained_columns"])]
        keys += [("unique", u["column_names"]) for u in schema.get_unique_constraints(table)]
        keys += [
            ("unique index", i["column_names"]) for i in schema.get_indexes(table) if i["unique"]
        ]
        breaks += [
            f"{table}: {kind} {columns} does not start with {column}"
            for kind, columns in keys
            if columns[:1] != [column]
        ]
    return breaks


def test_every_key_and_unique_constraint_starts_with_the_distribution_column(app):
    with app.app_context():
        assert schema_rule_breaks(inspect(db.engine)) == []


def test_the_rule_sees_a_unique_constraint_across_users(app, database_kind):
    """The rule catches what migration 0001 had: emails unique on users itself."""
    with app.app_context(), db.engine.connect() as connection:
        transaction = connection.begin()
        if database_kind == "sqlite":
            connection.execute(text("CREATE UNIQUE INDEX uq_probe ON users (email)"))
        else:
            connection.execute(text("ALTER TABLE users ADD CONSTRAINT uq_probe UNIQUE (email)"))
        broken = schema_rule_breaks(inspect(connection))
        transaction.rollback()
    assert any(line.startswith("users: unique") for line in broken), broken


def test_no_trigger_reads_transition_tables(app, database_kind):
    """Triggers over transition tables cannot run on a distributed table's shards."""
    if database_kind == "sqlite":
        return  # SQLite has no transition tables
    with app.app_context():
        triggers = db.session.execute(
            text(
                "SELECT tgrelid::regclass::text, tgname FROM pg_trigger "
                "WHERE NOT tgisinternal AND (tgoldtable IS NOT NULL OR tgnewtable IS NOT NULL)"
            )
        ).all()
    assert triggers == []


def statement_rule_breaks(statement: str) -> list[str]:
    """What in one statement would not route to one shard, or needs a session:
    - a distributed table it reads or changes without `<table>.<column> = `, or that it
      inserts into without its distribution column;
    - a volatile function in an UPDATE; session state (SET, PREPARE, advisory locks…)."""
    breaks = []
    if SESSION_STATE.search(statement):
        breaks.append("session state")
    if statement.lstrip().upper().startswith("UPDATE") and VOLATILE.search(statement):
        breaks.append("a volatile function in an UPDATE")
    inserted = INSERTED_COLUMNS.match(statement.lstrip())
    if inserted and DISTRIBUTED_BY[inserted[1]] not in inserted[2].replace(" ", "").split(","):
        breaks.append(f"an INSERT into {inserted[1]} without {DISTRIBUTED_BY[inserted[1]]}")
    rest = statement[inserted.end() :] if inserted else statement
    for table in set(TABLE_REFERENCE.findall(rest)) & DISTRIBUTED_BY.keys():
        if f"{table}.{DISTRIBUTED_BY[table]} = " not in rest:
            breaks.append(f"{table} without {table}.{DISTRIBUTED_BY[table]} = :value")
    return breaks


def walk_through(client, user_url_of) -> None:
    """Every route, with its success and its refusals, as two users use them."""
    accounts = {}
    for email in ("a@example.com", "b@example.com"):
        credentials = {"email": email, "password": PASSWORD}
        assert client.post("/api/auth/signup", json=credentials).status_code == 201
        login = client.post("/api/auth/login", json=credentials).get_json()
        accounts[email] = {
            "id": login["user_id"],
            "auth": {"Authorization": f"Bearer {login['token']}"},
        }
    a, b = accounts["a@example.com"], accounts["b@example.com"]
    assert_problem(
        client.post("/api/auth/signup", json={"email": "a@example.com", "password": PASSWORD}), 409
    )
    assert_problem(
        client.post(
            "/api/auth/login", json={"email": "a@example.com", "password": "wrong-password"}
        ),
        401,
    )
    assert client.get("/api/auth/me", headers=a["auth"]).status_code == 200
    tasks = user_url_of(a["id"])
    keyed = {**a["auth"], "Idempotency-Key": "k-1"}
    created = [client.post(tasks, json={"title": "One"}, headers=keyed) for _ in range(2)]
    assert created[0].get_json() == created[1].get_json()
    for n in range(3):
        client.post(tasks, json={"title": f"Task {n}", "description": "milk"}, headers=a["auth"])
    task = created[0].get_json()
    task_url = f"{tasks}/{task['id']}"
    for query in ("", "?completed=false&q=milk&sort=-title&limit=2", "?sort=updated_at&limit=1"):
        page = client.get(tasks + query, headers=a["auth"])
        assert page.status_code == 200
        if "next" in page.headers.get("Link", ""):
            next_url = page.headers["Link"].split(">")[0].lstrip("<")
            assert client.get(next_url, headers=a["auth"]).status_code == 200
    etag = client.get(task_url, headers=a["auth"]).headers["ETag"]
    assert (
        client.patch(
            task_url, json={"title": "Two"}, headers={**a["auth"], "If-Match": etag}
        ).status_code
        == 200
    )
    assert_problem(
        client.patch(task_url, json={"title": "Three"}, headers={**a["auth"], "If-Match": etag}),
        412,
    )
    assert client.put(task_url, json={"title": "Four"}, headers=a["auth"]).status_code == 200
    assert client.patch(f"{task_url}/complete", headers=a["auth"]).status_code == 200
    assert_problem(client.get(f"{user_url_of(b['id'])}/{task['id']}", headers=b["auth"]), 404)
    assert_problem(client.get(task_url, headers=b["auth"]), 403)
    sync_through(client, tasks, task_url, a["auth"])
    dates_through(client, tasks, a["auth"])
    organize_through(client, tasks, a["auth"])
    share_through(client, a, b, "b@example.com")
    webhooks_through(client, tasks, a["auth"])
    assert client.delete(task_url, headers=a["auth"]).status_code == 204
    assert_problem(client.get(task_url, headers=a["auth"]), 404)
    change = {"current_password": PASSWORD, "new_password": "another-password"}
    assert client.put("/api/auth/password", json=change, headers=a["auth"]).status_code == 204
    assert_problem(client.get(tasks, headers=a["auth"]), 401)
    assert client.post("/api/auth/logout", headers=b["auth"]).status_code == 204
    assert_problem(client.get(f"{user_url_of(b['id'])}/{task['id']}", headers=b["auth"]), 401)
    login = client.post(
        "/api/auth/login", json={"email": "a@example.com", "password": "another-password"}
    )
    auth = {"Authorization": f"Bearer {login.get_json()['token']}"}
    check = {"password": "another-password"}
    assert client.delete("/api/auth/me", json=check, headers=auth).status_code == 204


def sync_through(client, tasks: str, task_url: str, auth: dict) -> None:
    """The sync routes: the feed, the trash, a chosen id, batches, a conditional list."""
    changes = tasks.rsplit("/", 1)[0] + "/changes"
    cursor = client.get(changes, headers=auth).get_json()["next"]
    chosen = {"id": str(uuid.uuid4()), "title": "Offline"}
    for _ in range(2):
        assert client.post(tasks, json=chosen, headers=auth).status_code == 201
    chosen_url = f"{tasks}/{chosen['id']}"
    assert client.delete(chosen_url, headers=auth).status_code == 204
    assert client.get(f"{tasks}?deleted=true", headers=auth).status_code == 200
    assert client.post(f"{chosen_url}/restore", headers=auth).status_code == 200
    batch = tasks.rsplit("/", 1)[0] + "/batch"
    operations = [
        {"op": "create", "task": {"title": "Batched"}},
        {"op": "complete", "id": chosen["id"]},
        {"op": "delete", "id": chosen["id"]},
    ]
    for atomic in (True, False):
        answer = client.post(
            batch, json={"atomic": atomic, "operations": operations[:2]}, headers=auth
        )
        assert answer.status_code == 200
    assert client.post(batch, json={"operations": operations[2:]}, headers=auth).status_code == 200
    assert client.delete(f"{chosen_url}?purge=true", headers=auth).status_code == 204
    assert client.delete(tasks.rsplit("/", 1)[0] + "/trash", headers=auth).status_code == 204
    page = client.get(changes, query_string={"since": cursor}, headers=auth).get_json()
    assert page["deleted"] and page["tasks"]
    etag = client.get(tasks, headers=auth).headers["ETag"]
    assert client.get(tasks, headers={**auth, "If-None-Match": etag}).status_code == 304


def dates_through(client, tasks: str, auth: dict) -> None:
    """The user's zone, due dates merged, a recurring task rolled over and undone, the list's
    date queries and the completion history."""
    me = client.patch("/api/auth/me", json={"timezone": "Europe/Paris"}, headers=auth)
    assert me.status_code == 200
    body = {
        "title": "Weekly",
        "due": {"date": "2027-01-04", "time": "09:00", "timezone": "Europe/Paris"},
        "recurrence": {"rule": "FREQ=WEEKLY"},
        "reminders": [{"before": "PT15M"}],
    }
    task_url = f"{tasks}/{client.post(tasks, json=body, headers=auth).get_json()['id']}"
    assert client.patch(task_url, json={"due": {"time": "10:00"}}, headers=auth).status_code == 200
    for completed in (True, False):
        answer = client.patch(f"{task_url}/complete", json={"completed": completed}, headers=auth)
        assert answer.status_code == 200
    for query in ("?overdue=true&sort=due&limit=1", "?due_from=2027-01-01&sort=-priority"):
        assert client.get(tasks + query, headers=auth).status_code == 200
    completions = tasks.rsplit("/", 1)[0] + "/completions?from=2026-01-01&limit=1"
    assert client.get(completions, headers=auth).status_code == 200
    first = client.post(tasks, json={"title": "First"}, headers=auth).get_json()
    moved = client.post(f"{task_url}/move", json={"before": first["id"]}, headers=auth)
    assert moved.status_code == 200
    assert client.get(f"{tasks}?sort=position&limit=1", headers=auth).status_code == 200


def organize_through(client, tasks: str, auth: dict) -> None:
    """Lists, subtasks and labels: each written, read, filtered, trashed and restored."""
    user_url = tasks.rsplit("/", 1)[0]
    home = client.post(f"{user_url}/lists", json={"name": "Home"}, headers=auth).get_json()
    home_url = f"{user_url}/lists/{home['id']}"
    assert client.patch(home_url, json={"name": "House"}, headers=auth).status_code == 200
    assert client.post(f"{home_url}/move", json={}, headers=auth).status_code == 200
    parent = client.post(
        tasks, json={"title": "Pack", "list_id": home["id"], "labels": ["trip"]}, headers=auth
    ).get_json()
    child = {"title": "Socks", "parent_id": parent["id"], "labels": ["Trip", "clothes"]}
    assert client.post(tasks, json=child, headers=auth).status_code == 201
    for query in (f"?list_id={home['id']}", f"?parent_id={parent['id']}", "?label=trip"):
        assert client.get(tasks + query, headers=auth).status_code == 200
    assert client.get(f"{user_url}/lists", headers=auth).status_code == 200
    labels = f"{user_url}/labels"
    assert client.get(labels, headers=auth).status_code == 200
    assert client.patch(f"{labels}/trip", json={"name": "clothes"}, headers=auth).status_code == 200
    assert client.delete(f"{labels}/clothes", headers=auth).status_code == 204
    assert client.delete(home_url, headers=auth).status_code == 204
    assert client.post(f"{home_url}/restore", headers=auth).status_code == 200
    assert client.delete(f"{home_url}?purge=true", headers=auth).status_code == 204


def share_through(client, a: dict, b: dict, b_email: str) -> None:
    """Sharing: an invitation accepted, declined and cancelled, members listed and changed,
    the shared list among b's lists and in b's feed (tasks changed, moved out, purged), b
    removed and leaving, a shared list purged."""
    owned = f"/api/{a['id']}/lists"
    shared = client.post(owned, json={"name": "Shared"}, headers=a["auth"]).get_json()["id"]
    invitations, members = f"{owned}/{shared}/invitations", f"{owned}/{shared}/members"
    received = f"/api/{b['id']}/invitations"
    for role in ("viewer", "editor"):
        body = {"email": b_email, "role": role}
        assert client.post(invitations, json=body, headers=a["auth"]).status_code == 201
    assert client.get(invitations, headers=a["auth"]).status_code == 200
    [invitation] = client.get(received, headers=b["auth"]).get_json()
    assert (
        client.post(f"{received}/{invitation['id']}/accept", headers=b["auth"]).status_code == 204
    )
    assert client.get(members, headers=a["auth"]).status_code == 200
    role = {"role": "viewer"}
    assert client.patch(f"{members}/{b['id']}", json=role, headers=a["auth"]).status_code == 200
    assert len(client.get(f"/api/{b['id']}/lists", headers=b["auth"]).get_json()) == 1
    assert client.get(f"/api/{b['id']}/memberships", headers=b["auth"]).status_code == 200
    feed = f"/api/{b['id']}/changes"
    cursor = client.get(feed, headers=b["auth"]).get_json()["next"]
    tasks = f"/api/{a['id']}/tasks"
    for title in ("Moved", "Purged"):
        body = {"title": title, "list_id": shared}
        made = client.post(tasks, json=body, headers=a["auth"]).get_json()["id"]
        gone = client.patch(f"{tasks}/{made}", json={"list_id": None}, headers=a["auth"])
        if title == "Purged":
            gone = client.delete(f"{tasks}/{made}?purge=true", headers=a["auth"])
        assert gone.status_code < 300
    page = client.get(feed, query_string={"since": cursor}, headers=b["auth"]).get_json()
    assert len(page["deleted"]) == 2
    assert client.delete(f"{members}/{b['id']}", headers=a["auth"]).status_code == 204
    page = client.get(feed, query_string={"since": page["next"]}, headers=b["auth"]).get_json()
    assert [gone["reason"] for gone in page["deleted_lists"]] == ["removed"]
    for answer in ("decline", "accept"):
        body = {"email": b_email, "role": "editor"}
        invitation = client.post(invitations, json=body, headers=a["auth"]).get_json()
        assert (
            client.post(f"{received}/{invitation['id']}/{answer}", headers=b["auth"]).status_code
            == 204
        )
    leave = f"/api/{b['id']}/memberships/{a['id']}/{shared}"
    assert client.delete(leave, headers=b["auth"]).status_code == 204
    body = {"email": "nobody@example.com", "role": "editor"}
    invitation = client.post(invitations, json=body, headers=a["auth"]).get_json()
    assert client.delete(f"{invitations}/{invitation['id']}", headers=a["auth"]).status_code == 204
    invitation = client.post(
        invitations, json={**body, "email": b_email}, headers=a["auth"]
    ).get_json()
    assert (
        client.post(f"{received}/{invitation['id']}/accept", headers=b["auth"]).status_code == 204
    )
    assert client.delete(f"{owned}/{shared}?purge=true", headers=a["auth"]).status_code == 204


def webhooks_through(client, tasks: str, auth: dict) -> None:
    """An endpoint registered, read, changed, rotated, pinged, its log read, and deleted."""
    hooks = tasks.rsplit("/", 1)[0] + "/webhooks"
    made = client.post(hooks, json={"url": "https://hooks.example.com/a"}, headers=auth)
    one = f"{hooks}/{made.get_json()['id']}"
    assert client.get(hooks, headers=auth).status_code == 200
    assert client.get(one, headers=auth).status_code == 200
    assert client.patch(one, json={"events": ["task"]}, headers=auth).status_code == 200
    assert client.post(f"{one}/rotate", headers=auth).status_code == 200
    assert client.post(f"{one}/ping", headers=auth).status_code == 202
    assert client.get(f"{one}/attempts", headers=auth).status_code == 200
    assert client.delete(one, headers=auth).status_code == 204


def test_every_statement_of_a_walkthrough_routes_to_one_shard(client, sent_statements):
    walk_through(client, lambda user_id: f"/api/{user_id}/tasks")
    assert len(sent_statements) > 40
    breaks = {s: b for s in sent_statements if (b := statement_rule_breaks(s))}
    assert breaks == {}


def test_the_statement_rule_sees_what_citus_refused():
    """The statements Citus refused or fanned out (issue 14), each caught."""
    refused = [
        "SELECT users.id FROM users WHERE users.email = %(email)s",
        "DELETE FROM revoked_tokens WHERE revoked_tokens.expires_at < %(now)s",
        "SELECT 1 WHERE NOT (EXISTS (SELECT * FROM revoked_tokens "
        "WHERE revoked_tokens.jti = %(jti)s))",
        "UPDATE tasks SET updated_at=clock_timestamp() WHERE tasks.user_id = %(owner)s",
        "INSERT INTO tasks (id, title) SELECT %(id)s, %(title)s",
        "SET statement_timeout = 1000",
    ]
    assert all(statement_rule_breaks(statement) for statement in refused)


def test_distribute_puts_each_user_beside_its_rows(app, database_kind):
    """Without Citus, `flask todo distribute` refuses in one line; --dry-run shows the order:
    users first, the per-user tables colocated with them, the lookup by what it looks up."""
    runner = app.test_cli_runner()
    if database_kind == "sqlite":
        refused = runner.invoke(args=["todo", "distribute"])
        assert refused.exit_code == 1 and "not PostgreSQL" in refused.output
        return
    refused = runner.invoke(args=["todo", "distribute"])
    assert refused.exit_code == 1
    assert refused.output.count("\n") == 1 and "citus extension is not installed" in refused.output
    planned = runner.invoke(args=["todo", "distribute", "--dry-run"])
    assert planned.exit_code == 0
    assert planned.output.splitlines() == [
        "SELECT create_distributed_table('users', 'id')",
        "SELECT create_distributed_table('lists', 'user_id', colocate_with => 'users')",
        "SELECT create_distributed_table('purged_lists', 'user_id', colocate_with => 'users')",
        "SELECT create_distributed_table('tasks', 'user_id', colocate_with => 'users')",
        "SELECT create_distributed_table('labels', 'user_id', colocate_with => 'users')",
        "SELECT create_distributed_table('task_labels', 'user_id', colocate_with => 'users')",
        "SELECT create_distributed_table('revoked_tokens', 'user_id', colocate_with => 'users')",
        "SELECT create_distributed_table('idempotency_keys', 'user_id', colocate_with => 'users')",
        "SELECT create_distributed_table('purged_tasks', 'user_id', colocate_with => 'users')",
        "SELECT create_distributed_table('task_completions', 'user_id', colocate_with => 'users')",
        "SELECT create_distributed_table('list_members', 'user_id', colocate_with => 'users')",
        "SELECT create_distributed_table('memberships', 'user_id', colocate_with => 'users')",
        "SELECT create_distributed_table('membership_changes', 'user_id', "
        "colocate_with => 'users')",
        "SELECT create_distributed_table('list_departures', 'user_id', colocate_with => 'users')",
        "SELECT create_distributed_table('list_invitations', 'user_id', colocate_with => 'users')",
        "SELECT create_distributed_table('user_emails', 'email')",
        "SELECT create_distributed_table('invitations', 'email', colocate_with => 'user_emails')",
        "SELECT create_distributed_table('webhook_endpoints', 'user_id', colocate_with => 'users')",
        "SELECT create_distributed_table('webhook_attempts', 'user_id', colocate_with => 'users')",
        "SELECT create_distributed_table('webhook_schedule', 'slot')",
        "SELECT create_distributed_table('calendar_subscriptions', 'user_id', "
        "colocate_with => 'users')",
        "SELECT create_distributed_table('calendar_feeds', 'secret_digest')",
    ]
