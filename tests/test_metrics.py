"""/metrics: off unless configured, closed to anyone without its token, and under several
gunicorn workers a scrape adds every worker's counts up."""

import http.client
import re
import secrets

import pytest
from prometheus_client import CONTENT_TYPE_LATEST

from tests.servers import PASSWORD, sign_in, wait_for

TOKEN = "metrics-token-" + "m" * 32
SCRAPE = {"Authorization": f"Bearer {TOKEN}"}


def test_there_is_no_metrics_route_unless_a_token_is_set(client):
    assert client.get("/metrics").status_code == 404


def test_metrics_need_their_token(make_app):
    client = make_app(METRICS_TOKEN=TOKEN).test_client()
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        answer = client.get("/metrics", headers=headers)
        assert answer.status_code == 401
        assert answer.content_type == "application/problem+json"
    answer = client.get("/metrics", headers=SCRAPE)
    assert answer.status_code == 200
    assert answer.content_type.startswith("text/plain")


def test_metrics_say_their_charset_once(make_app):
    answer = make_app(METRICS_TOKEN=TOKEN).test_client().get("/metrics", headers=SCRAPE)
    assert answer.headers["Content-Type"] == CONTENT_TYPE_LATEST
    assert answer.headers["Content-Type"].count("charset") == 1


def test_a_method_no_route_knows_is_counted_as_other(make_app):
    """Any token is a method to HTTP: unmatched requests' methods would be label values
    without end, one series each."""
    client = make_app(METRICS_TOKEN=TOKEN).test_client()
    for method in ("BREW", "WHEN", "GET"):
        assert client.open("/nowhere", method=method).status_code == 404
    page = client.get("/metrics", headers=SCRAPE).get_data(as_text=True)
    unmatched = {"route": "unmatched", "status": "404"}
    assert sample(page, "todo_http_requests_total", method="other", **unmatched) == 2
    assert sample(page, "todo_http_requests_total", method="GET", **unmatched) == 1
    assert "BREW" not in page


def sample(text: str, name: str, **labels) -> float:
    """The value of one sample of a Prometheus text page."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = rf"^{name}\{{{re.escape(wanted)}\}} (\S+)$" if labels else rf"^{name} (\S+)$"
    [found] = re.findall(pattern, text, re.MULTILINE)
    return float(found)


@pytest.fixture
def metered(database_url, servers, tmp_path, redis_url):
    directory = tmp_path / "metrics"
    return directory, servers(
        database_url,
        METRICS_TOKEN=TOKEN,
        PROMETHEUS_MULTIPROC_DIR=str(directory),
        RATELIMIT_ENABLED="true",
        RATELIMIT_STORAGE_URI=redis_url,  # one count for both workers
        RATELIMIT_KEY_PREFIX=f"test-{secrets.token_hex(4)}",
        RATELIMIT_LOGIN_PER_EMAIL_AND_ADDRESS="2 per minute",
    )


def test_a_scrape_adds_up_the_counts_of_every_worker(metered):
    directory, server = metered
    # Both workers have loaded the app (each made its file for the in-flight gauge).
    wait_for(lambda: len(list(directory.glob("gauge_livesum_*.db"))) == 2)
    user_id, headers = sign_in(server)
    # Ten connections held open at once: both workers take some (server/worker.py).
    connections = [http.client.HTTPConnection("127.0.0.1", server.port) for _ in range(10)]
    for _ in range(3):
        for connection in connections:
            connection.request("GET", f"/api/{user_id}/tasks", headers=headers)
            assert connection.getresponse().read() == b"[]\n"
    for connection in connections:
        connection.close()
    wrong = {"email": "nobody@example.com", "password": PASSWORD}
    assert [server.call("POST", "/api/auth/login", wrong)[0] for _ in range(3)] == [401, 401, 429]

    assert len(list(directory.glob("counter_*.db"))) == 2  # one file per worker
    for _ in range(4):  # whichever worker answers the scrape
        page = scrape(server)
        listing = {"method": "GET", "route": "/api/{user_id}/tasks", "status": "200"}
        assert sample(page, "todo_http_requests_total", **listing) == 30
        login = {"method": "POST", "route": "/api/auth/login"}
        assert sample(page, "todo_http_requests_total", **login, status="200") == 1  # sign_in
        assert sample(page, "todo_http_requests_total", **login, status="401") == 2
        assert sample(page, "todo_http_requests_total", **login, status="429") == 1
        assert (
            sample(
                page,
                "todo_http_request_duration_seconds_count",
                method="GET",
                route=listing["route"],
            )
            == 30
        )
        limit = "RATELIMIT_LOGIN_PER_EMAIL_AND_ADDRESS"
        assert sample(page, "todo_throttled_attempts_total", limit=limit) == 1
        assert sample(page, "todo_http_requests_in_flight") == 1  # this scrape
        assert sample(page, "todo_db_pool_connections", state="in_use") == 0


def scrape(server) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", server.port)
    connection.request("GET", "/metrics", headers=SCRAPE)
    answer = connection.getresponse()
    assert answer.status == 200
    page = answer.read().decode()
    connection.close()
    return page
