"""Headers every client relies on: CORS for the configured origins only, request ids, and
security headers."""

import pytest

ORIGIN = "http://localhost:3000"


def preflight(client, url, origin, method="PUT"):
    return client.options(
        url,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "Authorization, Content-Type, If-Match, "
            "Idempotency-Key",
        },
    )


def test_preflight_from_an_allowed_origin_allows_the_contract_headers(client, tasks_url):
    answer = preflight(client, f"{tasks_url}/00000000-0000-4000-8000-000000000000", ORIGIN)
    assert answer.status_code == 200
    assert "Content-Type" not in answer.headers  # an empty answer, not an empty HTML page
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN
    allowed = {h.strip().lower() for h in answer.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "if-match", "idempotency-key"} <= allowed
    assert "PUT" in answer.headers["Access-Control-Allow-Methods"]


def test_real_call_from_an_allowed_origin_exposes_the_contract_headers(client, user, tasks_url):
    answer = client.get(tasks_url, headers={**user["headers"], "Origin": ORIGIN})
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN
    exposed = {h.strip() for h in answer.headers["Access-Control-Expose-Headers"].split(",")}
    assert {
        "ETag",
        "Location",
        "Link",
        "X-Total-Count",
        "X-Request-ID",
        "Retry-After",
        "Idempotent-Replayed",
    } <= exposed


def test_another_origin_gets_no_cors_headers(client, user, tasks_url):
    for answer in (
        preflight(client, tasks_url, "https://evil.example"),
        client.get(tasks_url, headers={**user["headers"], "Origin": "https://evil.example"}),
    ):
        assert not any(name.startswith("Access-Control-") for name, _ in answer.headers)


def cors_headers(answer) -> list[tuple[str, str]]:
    return [(name, value) for name, value in answer.headers if name.startswith("Access-Control-")]


def test_each_answer_of_a_route_and_origin_gets_what_flask_cors_gave_the_first(
    client, user, tasks_url
):
    """todo/cors.py remembers per route and Origin what flask-cors added to the first answer.
    Origins and routes interleave, so an answer given another's headers would show."""
    task = client.post(tasks_url, json={"title": "a"}, headers=user["headers"]).get_json()
    task_url = f"{tasks_url}/{task['id']}"
    origins = [None, ORIGIN, "HTTP://LOCALHOST:3000", "https://evil.example"]
    urls = [tasks_url, f"{tasks_url}?limit=1", task_url, "/openapi.json"]
    first = {}
    for _ in range(3):
        for origin in origins:
            for url in urls:
                sent = {**user["headers"], **({"Origin": origin} if origin else {})}
                got = cors_headers(client.get(url, headers=sent))
                assert got == first.setdefault((origin, url), got), (origin, url)
    assert ("Access-Control-Allow-Origin", ORIGIN) in first[ORIGIN, task_url]
    upper = first["HTTP://LOCALHOST:3000", tasks_url]
    assert ("Access-Control-Allow-Origin", "HTTP://LOCALHOST:3000") in upper
    assert ("Access-Control-Allow-Origin", ORIGIN) in first[None, tasks_url]  # always sent
    assert not any(first["https://evil.example", url] for url in urls)
    assert not any(first[origin, "/openapi.json"] for origin in origins)


def test_each_route_is_wholly_in_or_out_of_the_cors_resources(client):
    """What todo/cors.py assumes: whether a path matches CORS_RESOURCES (a regular expression
    matched at the path's start) follows from its route's fixed beginning."""
    resources = client.application.config["CORS_RESOURCES"]
    assert resources == r"/api/*"
    for rule in client.application.url_map.iter_rules():
        fixed = rule.rule.split("<")[0]
        assert len(fixed) >= len("/api") or not "/api".startswith(fixed), rule.rule


def test_origins_come_from_config(make_app):
    client = make_app(CORS_ORIGINS=["https://app.example"]).test_client()
    answer = preflight(client, "/api/auth/login", "https://app.example", method="POST")
    assert answer.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "Access-Control-Allow-Origin" not in preflight(client, "/api/auth/login", ORIGIN).headers


@pytest.mark.parametrize("path", ["/api/auth/me", "/nowhere", "/openapi.json"])
def test_every_answer_has_a_request_id_and_nosniff(client, path):
    answer = client.get(path)
    assert len(answer.headers["X-Request-ID"]) == 32
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_a_sane_client_request_id_is_echoed(client):
    answer = client.get("/api/auth/me", headers={"X-Request-ID": "trace-42.a_b:c"})
    assert answer.headers["X-Request-ID"] == "trace-42.a_b:c"


@pytest.mark.parametrize("sent", ["", "has space", "x" * 129, "new\\nline", "<script>"])
def test_an_odd_client_request_id_is_replaced(client, sent):
    answer = client.get("/api/auth/me", headers={"X-Request-ID": sent})
    assert answer.headers["X-Request-ID"] != sent
    assert len(answer.headers["X-Request-ID"]) == 32


def test_auth_answers_are_never_cached(client, user):
    answers = [
        client.post(
            "/api/auth/login", json={"email": "test@example.com", "password": "wrong-pass"}
        ),
        client.get("/api/auth/me", headers=user["headers"]),
        client.post("/api/auth/signup", json={"email": "x@example.com", "password": "password123"}),
    ]
    for answer in answers:
        assert answer.headers["Cache-Control"] == "no-store"


def test_body_over_64_kib_is_413_on_auth_routes_too(client):
    answer = client.post(
        "/api/auth/signup", json={"email": "x@example.com", "password": "p" * 70_000}
    )
    assert answer.status_code == 413
    assert answer.content_type == "application/problem+json"
