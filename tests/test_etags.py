"""ETags on single tasks (and lists): If-None-Match answers 304, If-Match guards every write
(412)."""

import pytest


@pytest.fixture
def current_etag(client, user, task_url):
    return client.get(task_url, headers=user["headers"]).headers["ETag"]


WRITES = [
    ("PUT", "", {"title": "Changed"}),
    ("PATCH", "", {"title": "Changed"}),
    ("PATCH", "/complete", None),
    ("DELETE", "", None),
]


def test_every_single_task_answer_has_an_etag(client, user, task_url):
    created = client.post(
        f"/api/{user['user_id']}/tasks", json={"title": "x"}, headers=user["headers"]
    )
    assert created.headers["ETag"].startswith('"')
    for answer in (
        client.get(task_url, headers=user["headers"]),
        client.put(task_url, json={"title": "y"}, headers=user["headers"]),
        client.patch(task_url, json={"title": "z"}, headers=user["headers"]),
        client.patch(f"{task_url}/complete", headers=user["headers"]),
    ):
        assert answer.headers["ETag"].startswith('"')


def test_each_change_gives_a_new_etag(client, user, task_url, current_etag):
    changed = client.patch(task_url, json={"title": "Changed"}, headers=user["headers"])
    assert changed.headers["ETag"] != current_etag
    assert client.get(task_url, headers=user["headers"]).headers["ETag"] == changed.headers["ETag"]


@pytest.mark.parametrize("sent", ["{etag}", "W/{etag}", '"nope", {etag}', "*"])
def test_get_with_matching_if_none_match_is_304(client, user, task_url, current_etag, sent):
    answer = client.get(
        task_url, headers={**user["headers"], "If-None-Match": sent.format(etag=current_etag)}
    )
    assert answer.status_code == 304
    assert answer.data == b""
    assert answer.headers["ETag"] == current_etag


def test_a_single_list_answers_304_to_its_etag_until_it_changes(client, user):
    lists_url = f"/api/{user['user_id']}/lists"
    made = client.post(lists_url, json={"name": "Home"}, headers=user["headers"])
    list_url, tag = f"{lists_url}/{made.get_json()['id']}", made.headers["ETag"]
    asked = {**user["headers"], "If-None-Match": tag}
    fresh = client.get(list_url, headers=asked)
    assert (fresh.status_code, fresh.data, fresh.headers["ETag"]) == (304, b"", tag)
    client.patch(list_url, json={"name": "House"}, headers=user["headers"])
    renamed = client.get(list_url, headers=asked)
    assert renamed.status_code == 200
    assert renamed.get_json()["name"] == "House" and renamed.headers["ETag"] != tag


def test_get_with_stale_if_none_match_is_200(client, user, task_url):
    answer = client.get(task_url, headers={**user["headers"], "If-None-Match": '"999"'})
    assert answer.status_code == 200


@pytest.mark.parametrize(("method", "suffix", "body"), WRITES)
def test_write_with_matching_if_match_applies(
    client, user, task_url, current_etag, stored_tasks, method, suffix, body
):
    answer = client.open(
        task_url + suffix,
        method=method,
        json=body,
        headers={**user["headers"], "If-Match": current_etag},
    )
    assert answer.status_code == (204 if method == "DELETE" else 200)
    [row] = stored_tasks()
    assert row.version == 2
    assert (row.deleted_at is not None) == (method == "DELETE")  # a delete moves it to the trash


@pytest.mark.parametrize("stale", ['"999"', 'W/"1"', "garbage"])
@pytest.mark.parametrize(("method", "suffix", "body"), WRITES)
def test_write_with_stale_if_match_is_412_and_changes_nothing(
    client, user, task, task_url, stored_tasks, method, suffix, body, stale
):
    answer = client.open(
        task_url + suffix, method=method, json=body, headers={**user["headers"], "If-Match": stale}
    )
    assert answer.status_code == 412
    assert answer.content_type == "application/problem+json"
    [row] = stored_tasks()
    assert (row.title, row.completed, row.version) == (task["title"], False, 1)


def test_if_match_on_a_missing_task_is_404(client, user):
    url = f"/api/{user['user_id']}/tasks/00000000-0000-4000-8000-000000000000"
    answer = client.put(url, json={"title": "x"}, headers={**user["headers"], "If-Match": '"1"'})
    assert answer.status_code == 404


def test_if_match_star_applies_to_an_existing_task(client, user, task_url):
    answer = client.put(task_url, json={"title": "x"}, headers={**user["headers"], "If-Match": "*"})
    assert answer.status_code == 200
