"""Calendar subscriptions: URLs a calendar application polls with no token (a secret in the
path, shown once, never logged), each revocable, at most 20, of one list or all, as VTODOs or
as events; ETag and 304; polls limited per subscription."""

import json
import logging
import sys
import uuid

import icalendar
import pytest

from logs import JSONFormatter
from tests.conftest import assert_problem
from tests.test_due import create


def subscriptions_url(user, subscription_id=None) -> str:
    url = f"/api/{user['user_id']}/calendar-subscriptions"
    return url if subscription_id is None else f"{url}/{subscription_id}"


def subscribe(client, user, **body) -> dict:
    answer = client.post(subscriptions_url(user), json=body, headers=user["headers"])
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def feed_path(made: dict) -> str:
    assert made["url"].startswith("http://localhost/calendar/") and made["url"].endswith(".ics")
    assert made["webcal_url"] == "webcal://" + made["url"].removeprefix("http://")
    return made["url"].removeprefix("http://localhost")


def polled(client, made: dict, **headers):
    return client.get(feed_path(made), headers=headers)


def entries(answer, kind="VTODO") -> dict[str, icalendar.Component]:
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.mimetype == "text/calendar"
    calendar = icalendar.Calendar.from_ical(answer.get_data(as_text=True))
    return {str(entry["summary"]): entry for entry in calendar.walk(kind)}


@pytest.fixture
def tasks(client, user):
    return {
        "dated": create(client, user, title="Dated", due={"date": "2026-12-24"}),
        "timed": create(
            client, user, title="Timed", due={"date": "2026-12-24", "time": "09:30"}, priority=3
        ),
        "undated": create(client, user, title="Undated"),
        "done": create(client, user, title="Done", due={"date": "2026-12-20"}, completed=True),
    }


def test_a_feed_is_polled_without_a_token_and_shows_the_tasks_with_a_due_date(client, user, tasks):
    made = subscribe(client, user)
    assert made["events"] is False and made["list_id"] is None
    found = entries(polled(client, made))
    assert set(found) == {"Dated", "Timed", "Done"}
    assert found["Dated"]["due"].to_ical() == b"20261224"
    assert str(found["Done"]["status"]) == "COMPLETED"


def test_a_feed_answers_304_while_nothing_changed(client, user, tasks):
    made = subscribe(client, user)
    first = polled(client, made)
    etag = first.headers["ETag"]
    assert polled(client, made, **{"If-None-Match": etag}).status_code == 304
    create(client, user, title="Another", due={"date": "2026-12-25"})
    again = polled(client, made, **{"If-None-Match": etag})
    assert again.status_code == 200 and "Another" in entries(again)


def test_events_for_calendars_that_show_only_events(client, user, tasks):
    found = entries(polled(client, subscribe(client, user, events=True)), "VEVENT")
    assert set(found) == {"Dated", "Timed"}  # completed tasks left out
    assert found["Dated"]["dtstart"].to_ical() == b"20261224"
    assert found["Dated"]["dtend"].to_ical() == b"20261225"  # an all-day event
    assert found["Timed"]["dtstart"].to_ical() == b"20261224T093000"


def test_a_feed_of_one_list_is_named_after_it(client, user, tasks):
    trip = client.post(
        f"/api/{user['user_id']}/lists", json={"name": "Trip"}, headers=user["headers"]
    ).get_json()
    create(client, user, title="Passport", due={"date": "2026-12-01"}, list_id=trip["id"])
    answer = polled(client, subscribe(client, user, list_id=trip["id"]))
    assert set(entries(answer)) == {"Passport"}
    assert "X-WR-CALNAME:Trip" in answer.get_data(as_text=True)


def test_a_feed_of_a_list_that_is_not_the_users_is_404(client, user, other_user):
    answer = client.post(
        subscriptions_url(user), json={"list_id": str(uuid.uuid4())}, headers=user["headers"]
    )
    assert_problem(answer, 404)


def test_listed_subscriptions_show_no_url(client, user):
    made = subscribe(client, user)
    listed = client.get(subscriptions_url(user), headers=user["headers"]).get_json()
    assert listed == [{key: made[key] for key in ("id", "list_id", "events", "created_at")}]
    assert feed_path(made).split("/")[-1][:-4] not in json.dumps(listed)


def test_a_revoked_feed_is_404_and_the_others_still_answer(client, user, tasks):
    kept, revoked = subscribe(client, user), subscribe(client, user)
    answer = client.delete(subscriptions_url(user, revoked["id"]), headers=user["headers"])
    assert answer.status_code == 204
    assert_problem(polled(client, revoked), 404)
    assert polled(client, kept).status_code == 200
    again = client.delete(subscriptions_url(user, revoked["id"]), headers=user["headers"])
    assert_problem(again, 404)


def test_another_users_subscription_cannot_be_revoked(client, user, other_user):
    made = subscribe(client, user)
    answer = client.delete(subscriptions_url(other_user, made["id"]), headers=other_user["headers"])
    assert_problem(answer, 404)
    assert polled(client, made).status_code == 200


def test_an_unknown_secret_is_404(client):
    assert_problem(client.get("/calendar/not-a-secret.ics"), 404)


def test_a_purged_list_takes_its_feed_along(client, user):
    trip = client.post(
        f"/api/{user['user_id']}/lists", json={"name": "Trip"}, headers=user["headers"]
    ).get_json()
    made = subscribe(client, user, list_id=trip["id"])
    purge = client.delete(
        f"/api/{user['user_id']}/lists/{trip['id']}?purge=true", headers=user["headers"]
    )
    assert purge.status_code == 204
    assert_problem(polled(client, made), 404)


def test_at_most_20_subscriptions(client, user):
    for _ in range(20):
        subscribe(client, user)
    answer = client.post(subscriptions_url(user), json={}, headers=user["headers"])
    assert assert_problem_type(answer) == "/problems/too-many-subscriptions"


def assert_problem_type(answer) -> str:
    assert answer.status_code == 422, answer.get_json()
    return answer.get_json()["type"]


def test_polls_of_one_subscription_are_limited(make_app, user, tasks):
    client = make_app(
        RATELIMIT_ENABLED=True, RATELIMIT_CALENDAR_PER_SUBSCRIPTION="2 per minute"
    ).test_client()
    made, other = subscribe(client, user), subscribe(client, user)
    assert [polled(client, made).status_code for _ in range(2)] == [200, 200]
    limited = polled(client, made)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert polled(client, other).status_code == 200


def test_the_secret_is_never_logged(client, user, tasks, caplog):
    caplog.set_level(logging.INFO)
    made = subscribe(client, user)
    secret = feed_path(made).split("/")[-1][:-4]
    polled(client, made)
    client.get(f"/calendar/{secret}")  # a mistyped URL with the secret in it: 404
    logged = "\n".join(JSONFormatter().format(record) for record in caplog.records)
    assert secret not in logged
    assert '"path": "/calendar/[secret]"' in logged or '"path":"/calendar/[secret]"' in logged


def test_an_error_on_a_calendar_url_is_logged_without_its_secret(app, caplog):
    """Flask's own line for an unhandled error names the path: a feed's secret is not in it."""
    with app.test_request_context("/calendar/s3cr3t-in-the-path.ics"):
        try:
            raise RuntimeError("a failure while answering")
        except RuntimeError:
            app.log_exception(sys.exc_info())
    logged = "\n".join(JSONFormatter().format(record) for record in caplog.records)
    assert "s3cr3t-in-the-path" not in logged
    assert "Exception on /calendar/[secret] [GET]" in logged
