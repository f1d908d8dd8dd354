"""The OpenAPI document covers every route, passes the linters client developers run on it,
and the interactive docs work with no internet."""

import json
import os
import re
from http import HTTPStatus

import pytest
from openapi_spec_validator import validate

from config import TestingConfig
from tests.node import CLIENTS, installed, npm
from todo import DOMAIN_PROBLEMS, create_app
from todo.guides import GUIDES
from todo.sync.routes import BATCH_FAILED

API_ROUTES = {
    "/api/auth/signup": {"post"},
    "/api/auth/login": {"post"},
    "/api/auth/me": {"get", "patch", "delete"},
    "/api/auth/logout": {"post"},
    "/api/auth/password": {"put"},
    "/api/{user_id}/tasks": {"get", "post"},
    "/api/{user_id}/tasks/{task_id}": {"get", "put", "patch", "delete"},
    "/api/{user_id}/tasks/{task_id}/complete": {"patch"},
    "/api/{user_id}/tasks/{task_id}/restore": {"post"},
    "/api/{user_id}/tasks/{task_id}/move": {"post"},
    "/api/{user_id}/changes": {"get"},
    "/api/{user_id}/changes/tickets": {"post"},
    "/api/changes/stream": {"get"},
    "/api/{user_id}/trash": {"delete"},
    "/api/{user_id}/batch": {"post"},
    "/api/{user_id}/completions": {"get"},
    "/api/{user_id}/lists": {"get", "post"},
    "/api/{user_id}/lists/{list_id}": {"get", "patch", "delete"},
    "/api/{user_id}/lists/{list_id}/move": {"post"},
    "/api/{user_id}/lists/{list_id}/restore": {"post"},
    "/api/{user_id}/labels": {"get"},
    "/api/{user_id}/labels/{name}": {"patch", "delete"},
    "/api/{user_id}/lists/{list_id}/invitations": {"get", "post"},
    "/api/{user_id}/lists/{list_id}/invitations/{invitation_id}": {"delete"},
    "/api/{user_id}/lists/{list_id}/members": {"get"},
    "/api/{user_id}/lists/{list_id}/members/{member_id}": {"patch", "delete"},
    "/api/{user_id}/invitations": {"get"},
    "/api/{user_id}/invitations/{invitation_id}/accept": {"post"},
    "/api/{user_id}/invitations/{invitation_id}/decline": {"post"},
    "/api/{user_id}/memberships": {"get"},
    "/api/{user_id}/memberships/{owner_id}/{list_id}": {"delete"},
    "/api/{user_id}/webhooks": {"get", "post"},
    "/api/{user_id}/webhooks/{endpoint_id}": {"get", "patch", "delete"},
    "/api/{user_id}/webhooks/{endpoint_id}/rotate": {"post"},
    "/api/{user_id}/webhooks/{endpoint_id}/attempts": {"get"},
    "/api/{user_id}/webhooks/{endpoint_id}/ping": {"post"},
    "/api/{user_id}/export": {"get"},
    "/api/{user_id}/export/calendar": {"get"},
    "/api/{user_id}/export/csv": {"get"},
    "/api/{user_id}/imports": {"post"},
    "/api/{user_id}/imports/preview": {"post"},
    "/api/{user_id}/imports/{job_id}": {"get"},
    "/api/{user_id}/calendar-subscriptions": {"get", "post"},
    "/api/{user_id}/calendar-subscriptions/{subscription_id}": {"delete"},
    "/calendar/{secret}.ics": {"get"},
    "/healthz": {"get"},
    "/readyz": {"get"},
}


@pytest.fixture
def spec(client):
    answer = client.get("/openapi.json")
    assert answer.status_code == 200
    return answer.get_json()


def test_openapi_document_lists_every_route(spec):
    assert spec["openapi"].startswith("3.")
    assert {path: set(ops) - {"parameters"} for path, ops in spec["paths"].items()} == API_ROUTES


def test_every_task_operation_documents_its_errors_as_problems(spec):
    for path, operations in spec["paths"].items():
        if not path.startswith("/api/{user_id}"):
            continue
        for name, operation in operations.items():
            if name == "parameters":
                continue
            assert {"401", "403"} <= set(operation["responses"]), (path, name)
            if "{task_id}" in path:
                assert "404" in operation["responses"], (path, name)
            for status, answer in operation["responses"].items():
                if status >= "400" and "$ref" not in answer:
                    assert list(answer["content"]) == ["application/problem+json"], (path, status)
    for answer in spec["components"]["responses"].values():
        assert list(answer["content"]) == ["application/problem+json"]


def test_request_bodies_have_schemas(spec):
    body = spec["paths"]["/api/{user_id}/tasks"]["post"]["requestBody"]
    schema_ref = body["content"]["application/json"]["schema"]["$ref"]
    schema = spec["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]
    assert schema["required"] == ["title"]
    assert schema["properties"]["title"]["maxLength"] == 500


def test_signup_and_login_need_no_token(spec):
    assert spec["paths"]["/api/auth/signup"]["post"]["security"] == []
    assert spec["paths"]["/api/auth/login"]["post"]["security"] == []
    assert spec["security"] == [{"bearerAuth": []}]


def test_docs_page_loads_its_assets_from_this_server(client):
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, html
    for asset in assets:
        assert asset.startswith("/docs/assets/"), asset
        with client.get(asset) as answer:
            assert answer.status_code == 200
    assert "https://" not in html and "http://" not in html


def parameter_names(operation):
    return {parameter["name"] for parameter in operation.get("parameters", [])}


def test_list_documents_its_query_parameters_and_headers(spec):
    operation = spec["paths"]["/api/{user_id}/tasks"]["get"]
    assert parameter_names(operation) == {
        *(
            "deleted",
            "completed",
            "q",
            "sort",
            "limit",
            "cursor",
            "If-None-Match",
            "list_id",
            "parent_id",
            "label",
            "assignee",
        ),
        *("has_due", "due_from", "due_to", "overdue", "completed_from", "completed_to", "tz"),
    }
    assert set(operation["responses"]["200"]["headers"]) == {
        *("X-Total-Count", "Link", "X-Request-ID", "ETag", "Cache-Control", "Vary"),
        *("RateLimit-Policy", "RateLimit"),
    }
    assert {"304", "400"} <= set(operation["responses"])


def test_single_task_operations_document_their_conditional_headers(spec):
    task = spec["paths"]["/api/{user_id}/tasks/{task_id}"]
    assert "If-None-Match" in parameter_names(task["get"])
    assert "304" in task["get"]["responses"]
    for method in ("put", "patch", "delete"):
        assert "If-Match" in parameter_names(task[method])
        assert "412" in task[method]["responses"]
    assert "purge" in parameter_names(task["delete"])
    restore = spec["paths"]["/api/{user_id}/tasks/{task_id}/restore"]["post"]
    assert "If-Match" in parameter_names(restore)
    assert {"410", "412"} <= set(restore["responses"])
    create = spec["paths"]["/api/{user_id}/tasks"]["post"]
    assert "Idempotency-Key" in parameter_names(create)
    assert set(create["responses"]["201"]["headers"]) == {
        "ETag",
        "Location",
        "Idempotent-Replayed",
        "X-Positions-Rebalanced",
        "X-Request-ID",
        "RateLimit-Policy",
        "RateLimit",
    }


def operations(spec):
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            if method != "parameters":
                yield path, method, operation


def test_the_document_is_valid_openapi(spec):
    validate(spec)


def test_every_operation_has_a_stable_readable_operation_id(spec):
    ids = [operation.get("operationId") for _, _, operation in operations(spec)]
    assert all(re.fullmatch(r"[a-z]+(?:[A-Z][a-z]+)*", str(name)) for name in ids), ids
    assert len(set(ids)) == len(ids)
    assert spec["paths"]["/api/{user_id}/tasks"]["get"]["operationId"] == "listTasks"
    assert spec["paths"]["/api/{user_id}/tasks/{task_id}/complete"]["patch"]["operationId"] == (
        "toggleTask"
    )


@pytest.mark.parametrize(
    ("schema", "always_present"),
    [
        (
            "Task",
            {
                *("id", "user_id", "title", "description", "completed", "created_at"),
                *("updated_at", "version", "deleted_at", "priority", "completed_at", "due"),
                *("recurrence", "reminders", "position", "list_id", "parent_id", "subtasks"),
                *("labels", "created_by", "updated_by", "completed_by", "assignee_id"),
            },
        ),
        ("Label", {"name", "task_count"}),
        (
            "TaskList",
            {
                *("id", "user_id", "name", "position", "version", "task_count"),
                *("completed_count", "created_at", "updated_at", "deleted_at"),
                *("owner_id", "role"),
            },
        ),
        ("Due", {"date", "time", "timezone", "at"}),
        ("SubtaskCounts", {"total", "completed"}),
        ("Recurrence", {"rule", "from", "completed_count", "last_completed_at"}),
        ("Reminder", {"before", "at", "remind_at"}),
        (
            "CompletionEntry",
            {"id", "task_id", "title", "completed_at", "completed_by", "occurrence"},
        ),
        ("Changes", {"tasks", "deleted", "lists", "deleted_lists", "next", "has_more"}),
        ("DeletedTask", {"id", "deleted_at", "purged", "reason"}),
        ("User", {"user_id", "email", "created_at", "timezone"}),
        ("Token", {"user_id", "email", "token", "token_type", "expires_at"}),
        ("Problem", {"type", "title", "status", "detail"}),
        ("Readiness", {"status", "revision"}),
    ],
)
def test_answers_fields_that_are_always_present_are_required(spec, schema, always_present):
    assert set(spec["components"]["schemas"][schema]["required"]) == always_present


def test_no_request_field_has_a_default_that_makes_it_required(spec):
    for name, schema in spec["components"]["schemas"].items():
        for field, definition in schema.get("properties", {}).items():
            assert "default" not in definition, (name, field)


def test_each_error_status_has_an_example_of_itself(spec):
    for name, response in spec["components"]["responses"].items():
        example = response["content"]["application/problem+json"]["example"]
        assert example["status"] == HTTPStatus[name].value
        assert example["title"] == HTTPStatus[name].phrase
        assert "X-Request-ID" in response["headers"]


def test_every_operation_documents_405(spec):
    for path, method, operation in operations(spec):
        assert operation["responses"]["405"] == {
            "$ref": "#/components/responses/METHOD_NOT_ALLOWED"
        }, (path, method)


def test_every_answer_documents_its_request_id(spec):
    for path, method, operation in operations(spec):
        for status, response in operation["responses"].items():
            if "$ref" not in response:
                assert "X-Request-ID" in response["headers"], (path, method, status)
                if path.startswith("/api/auth/"):
                    assert "Cache-Control" in response["headers"], (path, method, status)


def test_the_document_introduces_the_api_and_its_server(spec):
    assert "Authorization: Bearer" in spec["info"]["description"]
    assert spec["servers"][0]["url"] == "/"
    assert "PaginationMetadata" not in spec["components"]["schemas"]
    sort = next(
        parameter
        for parameter in spec["paths"]["/api/{user_id}/tasks"]["get"]["parameters"]
        if parameter["name"] == "sort"
    )
    assert sort["schema"]["x-enum-varnames"][:2] == ["CREATED_AT", "CREATED_AT_DESC"]


def test_the_document_names_every_problem_type_the_api_answers(spec):
    kinds = {answer.type for answer in DOMAIN_PROBLEMS.values()} | {BATCH_FAILED}
    kinds.discard("about:blank")
    missing = [kind for kind in kinds if f"`{kind}`" not in spec["info"]["description"]]
    assert missing == []


def test_parameter_and_header_descriptions_are_plain_text(spec):
    """Swagger UI shows these as they are: Markdown backticks would show."""
    for path, method, operation in operations(spec):
        for parameter in operation.get("parameters", []):
            assert "`" not in parameter.get("description", ""), (path, method)
        for response in operation["responses"].values():
            for header in response.get("headers", {}).values():
                assert "`" not in header.get("description", ""), (path, method)


@pytest.fixture(scope="module")
def linters():
    """tests/clients/lint (Redocly and Spectral, as locked there), with the served document
    written in it; the document needs no database."""
    package = installed(CLIENTS / "lint")
    document = create_app(TestingConfig("sqlite://")).test_client().get("/openapi.json")
    (package / "openapi.json").write_text(document.get_data(as_text=True))
    return package


def test_redocly_finds_no_error_nor_warning(linters):
    """Its recommended rules (tests/clients/lint/redocly.yaml); it asks no server."""
    quiet = {**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"}
    linted = npm(
        linters, "exec", "--", "redocly", "lint", "--format=json", "openapi.json", env=quiet
    )
    report = json.loads(linted.stdout)
    assert report["totals"] == {"errors": 0, "warnings": 0, "ignored": 0}, report["problems"]


def test_spectral_finds_no_error_nor_warning(linters):
    """Its OpenAPI ruleset (tests/clients/lint/.spectral.yaml, which says why a rule is off)."""
    linted = npm(linters, "exec", "--", "spectral", "lint", "--fail-severity=warn", "openapi.json")
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_every_operation_has_a_short_summary_and_a_description(spec):
    """The docstring's first line is the summary (one line in /docs and in generated
    clients' docs), its body the description."""
    for path, method, operation in operations(spec):
        assert 0 < len(operation["summary"]) <= 120, (path, method, operation["summary"])
        assert "\n" not in operation["summary"], (path, method)
        assert operation.get("description", "").strip(), (path, method)


def documented_answer_headers(spec) -> set[str]:
    """Every header named in any response's `headers`, of operations and components."""
    responses = [*spec["components"]["responses"].values()]
    for _, _, operation in operations(spec):
        responses += [answer for answer in operation["responses"].values() if "$ref" not in answer]
    return {name for answer in responses for name in answer.get("headers", {})}


def test_every_documented_answer_header_is_exposed_to_browsers(spec, client, user):
    """A browser app reads a header of a cross-origin answer only if the answer says it may
    (Access-Control-Expose-Headers)."""
    origin = "http://localhost:3000"
    answer = client.get(
        f"/api/{user['user_id']}/tasks", headers={**user["headers"], "Origin": origin}
    )
    assert answer.headers["Access-Control-Allow-Origin"] == origin
    exposed = {name.strip() for name in answer.headers["Access-Control-Expose-Headers"].split(",")}
    documented = documented_answer_headers(spec)
    assert "X-Positions-Rebalanced" in documented
    assert documented <= exposed, documented - exposed


def test_a_not_ready_answer_is_its_documented_example(tmp_path):
    """/readyz's 503 has a problem shape of its own, with `revision`, and its examples name
    the revision this code needs: an unmigrated database answers the "unmigrated" one."""
    client = create_app(TestingConfig(f"sqlite:///{tmp_path / 'empty.db'}")).test_client()
    answer = client.get("/readyz")
    assert answer.status_code == 503
    spec = client.get("/openapi.json").get_json()
    documented = spec["paths"]["/readyz"]["get"]["responses"]["503"]["content"]
    assert documented["application/problem+json"]["schema"] == {
        "$ref": "#/components/schemas/NotReady"
    }
    examples = documented["application/problem+json"]["examples"]
    assert answer.get_json() == examples["unmigrated"]["value"]
    assert answer.get_json()["revision"] is None
    assert "revision" in spec["components"]["schemas"]["NotReady"]["properties"]


def test_the_document_links_to_the_guides_the_server_serves(spec, client):
    linked = re.findall(r"\]\((/docs/guides/[\w-]+\.md)\)", spec["info"]["description"])
    assert len(set(linked)) >= 5
    for path in set(linked):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert answer.content_type == "text/markdown; charset=utf-8"
        page = GUIDES / path.rsplit("/", 1)[1]
        assert answer.get_data(as_text=True) == page.read_text()
    assert client.get("/docs/guides/nothing.md").status_code == 404
