"""schemathesis against the app's own /openapi.json: every operation, called as a signed-in
user with generated valid and invalid input, never answers a 500, answers only statuses its
document lists, and bodies that match the documented schemas."""

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from config import TestingConfig
from tests.conftest import FUZZ_CASES, PASSWORD
from todo import create_app

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = 60


# The document needs no database: read it from an app that never opens one. The calls go to
# the test's own app, on each database.
schema = schemathesis.openapi.from_wsgi("/openapi.json", create_app(TestingConfig("sqlite://")))


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_conforms_to_the_document(case, app, client, user, database_kind):
    """The user's own ids go in the path, so the calls reach the code behind the checks."""
    login = client.post("/api/auth/login", json={"email": user["email"], "password": PASSWORD})
    headers = {"Authorization": f"Bearer {login.get_json()['token']}"}
    if "user_id" in (case.path_parameters or {}):
        case.path_parameters["user_id"] = user["user_id"]
    if "task_id" in (case.path_parameters or {}):
        task = client.post(f"/api/{user['user_id']}/tasks", json={"title": "fuzz"}, headers=headers)
        case.path_parameters["task_id"] = task.get_json()["id"]
    response = case.call(app=app, headers={**headers, **(case.headers or {})})
    case.validate_response(response, checks=CHECKS)
    FUZZ_CASES[f"{case.operation.label} [{database_kind}]"] += 1
