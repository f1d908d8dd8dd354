"""The places where this app reaches into a library's internals (listed in
docs/library-internals.md, with the versions they were written against). Each test fails if
its hook stops taking effect, as a renamed method after an upgrade would make it do
silently."""

import cProfile
import pstats
import socket
import uuid
from types import SimpleNamespace

import jwt
import pytest
from gunicorn import util
from gunicorn.config import Config
from gunicorn.http import wsgi
from psycopg2 import extensions as psycopg2_extensions
from sqlalchemy import String, Uuid, bindparam, cast, select

from tests.servers import create_task, sign_in
from tests.test_tokens import claims, forged
from todo.extensions import api, db


def test_a_token_of_a_shape_we_never_issue_is_refused(client, user):
    """flask-jwt-extended's JWTManager._decode_jwt_from_config
    (todo/accounts/verified_tokens.py: ShapeCheckingJWTManager)."""
    headers = {"Authorization": f"Bearer {forged(claims(user, jti='j' * 1000))}"}
    answer = client.get("/api/auth/me", headers=headers)
    assert answer.status_code == 401
    assert "the `jti` claim is missing or not what this API issues" in answer.get_json()["detail"]


def test_a_token_seen_before_is_not_decoded_again(client, user, monkeypatch):
    """The memo of accepted headers (todo/accounts/verified_tokens.py), which relies on
    flask-jwt-extended decoding through the hook above only when it is asked to."""
    decoded = []
    original = jwt.decode

    def counting_decode(*args, **kwargs):
        decoded.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting_decode)
    fresh = {"Authorization": f"Bearer {user['token']}x"}  # not verified before: decoded
    assert client.get("/api/auth/me", headers=fresh).status_code == 401
    assert decoded
    assert client.get("/api/auth/me", headers=user["headers"]).status_code == 200  # accepted
    decoded.clear()
    for _ in range(3):
        assert client.get("/api/auth/me", headers=user["headers"]).status_code == 200
    assert decoded == []


def test_a_body_that_is_not_json_is_refused_in_our_words(client, user):
    """webargs' FlaskParser._raw_load_json (todo/blueprint.py: JSONParser)."""
    answer = client.post(
        f"/api/{user['user_id']}/tasks",
        data="title=x",
        content_type="text/plain",
        headers=user["headers"],
    )
    assert answer.status_code == 415
    assert answer.get_json()["detail"] == (
        "The request body must be JSON (Content-Type: application/json)."
    )


def test_a_repeated_query_parameter_is_refused(client, user):
    """webargs' FlaskParser.load_querystring (todo/blueprint.py: JSONParser)."""
    answer = client.get(f"/api/{user['user_id']}/tasks?limit=1&limit=2", headers=user["headers"])
    assert answer.status_code == 400
    assert answer.get_json()["errors"] == {"limit": ["Give this parameter once."]}


def test_error_statuses_are_documented_as_problems_with_examples(app):
    """flask-smorest's Api._register_responses (todo/errors.py: ProblemApi)."""
    with app.app_context():
        responses = api.spec.to_dict()["components"]["responses"]
    assert set(responses["UNAUTHORIZED"]["content"]) == {"application/problem+json"}
    example = responses["UNAUTHORIZED"]["content"]["application/problem+json"]["example"]
    assert example["status"] == 401


def test_a_schema_of_several_forms_is_documented_as_them(app):
    """apispec hands each plugin's schema_helper the definition it builds, and the forms copy
    marshmallow's declared fields (todo/openapi.py: ClientShapes, form): the flat definition
    is replaced, each form requires what it needs."""
    with app.app_context():
        schemas = api.spec.to_dict()["components"]["schemas"]
    assert schemas["WholeDue"] == {
        "oneOf": [
            {"$ref": "#/components/schemas/DueOnDate"},
            {"$ref": "#/components/schemas/DueAtInstant"},
        ]
    }
    assert schemas["DueAtInstant"]["required"] == ["at", "timezone"]
    assert schemas["DueAtInstant"]["properties"]["timezone"]["type"] == "string"
    assert "nullable" not in schemas["DueAtInstant"]["properties"]["timezone"]


def test_documentation_is_kept_without_wrapping_the_views(app):
    """flask-smorest's doc and alt_response leave the documentation on their wrapper's
    `_apidoc` (todo/blueprint.py: `documenting` moves it to the view and drops the wrapper):
    a task read is documented with its 304 and problems, and what Flask calls for it reaches
    the view through no wrapper of those two."""
    with app.app_context():
        read = api.spec.to_dict()["paths"]["/api/{user_id}/tasks/{task_id}"]["get"]
    assert {"200", "304", "401", "403", "404", "503"} <= set(read["responses"])
    assert read["operationId"] == "readTask"
    layers, view = [], app.view_functions["tasks.read_task"]
    while view is not None:
        layers.append(view.__code__.co_qualname)
        view = getattr(view, "__wrapped__", None)
    assert layers[-1] == "read_task"
    assert not any(".doc.<locals>" in layer or "alt_response" in layer for layer in layers)


@pytest.fixture
def server(database_url, servers):
    return servers(database_url)


def test_a_client_expecting_100_continue_gets_it_once(server):
    """gunicorn's Request._expected_100_continue (server/worker.py): the worker answers
    `100 Continue` itself before the body is read, so gunicorn must not send a second one."""
    user_id, headers = sign_in(server)
    create_task(server, user_id, headers)  # the account is usable
    body = b'{"title": "Sent after the interim answer"}'
    head = (
        f"POST /api/{user_id}/tasks HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        f"Authorization: {headers['Authorization']}\r\nExpect: 100-continue\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(head)
        assert sock.recv(1024) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert received.startswith(b"HTTP/1.1 201 ")
    assert b"HTTP/1.1 100" not in received


def test_gunicorn_dates_its_answers_through_util_http_date(monkeypatch):
    """gunicorn.util.http_date, which each worker replaces with one that formats the time
    once a second (server/dates.py): gunicorn's responses must still take their Date from
    it, by that name, when they write their headers."""
    monkeypatch.setattr(util, "http_date", lambda timestamp=None: "the worker's date")
    request = SimpleNamespace(version=(1, 1), method="GET", should_close=lambda: False)
    response = wsgi.Response(request, None, Config())
    response.start_response("200 OK", [("Content-Length", "2")])
    assert "Date: the worker's date\r\n" in response.default_headers()


def test_column_names_are_decoded_without_a_python_codec_call(app):
    """psycopg2.extensions.encodings (todo/database.py: decode_names_in_c): psycopg2 decodes
    a result's column names through the codec that map names; the app's is the C function
    itself, so no Python decode function runs, and names and texts still decode right."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("only psycopg2 decodes through psycopg2.extensions.encodings")
        connection = db.engine.raw_connection()
        try:
            cursor = connection.cursor()
            profile = cProfile.Profile()
            profile.enable()
            cursor.execute("SELECT 1 AS \"çà✓\", 'été ✓' AS texte, 1 AS plain")
            rows = cursor.fetchall()
            profile.disable()
        finally:
            connection.close()
    assert [column.name for column in cursor.description] == ["çà✓", "texte", "plain"]
    assert rows == [(1, "été ✓", 1)]
    called = {function for (_file, _line, function) in pstats.Stats(profile).stats}
    assert "decode" not in called, called


def test_uuid_parameters_are_quoted_once_by_the_apps_adapter_after_a_reconnect(app):
    """psycopg2.extensions.register_adapter (todo/postgresql.py: quote_uuids_once): the
    psycopg2 dialect registers psycopg2's own uuid adapter as each connection opens; the
    app's, registered after it, quotes each uuid once and the values still arrive whole."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("only psycopg2 adapts uuid parameters")
        db.engine.dispose()  # the next statement opens a connection, and the dialect's hook runs
        value = uuid.uuid4()
        statement = select(cast(bindparam("value", type_=Uuid), String))
        for _ in range(2):
            assert db.session.execute(statement, {"value": value}).scalar_one() == str(value)
        db.session.close()
    adapted = psycopg2_extensions.adapt(value)
    assert adapted.getquoted() == f"'{value}'::uuid".encode()
    assert psycopg2_extensions.adapt(uuid.UUID(str(value))) is adapted
