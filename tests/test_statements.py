"""Round trips per request: each task route runs one statement (the token's standing is a
condition of the route's own statement, and a write's change number is taken by the row's
trigger), and so does reading the account."""


def test_each_task_route_is_one_statement(client, user, task, task_url, sent_statements):
    tasks_url = task_url.rsplit("/", 1)[0]
    calls = [
        ("GET", tasks_url, None),
        ("GET", task_url, None),
        ("POST", tasks_url, {"title": "Another"}),
        ("PATCH", task_url, {"title": "Renamed"}),
        ("PUT", task_url, {"title": "Replaced"}),
        ("PATCH", f"{task_url}/complete", None),
        ("DELETE", task_url, None),
        ("POST", f"{task_url}/restore", None),
        ("GET", "/api/auth/me", None),
    ]
    for method, url, body in calls:
        sent_statements.clear()
        answer = client.open(url, method=method, json=body, headers=user["headers"])
        assert answer.status_code < 300, (method, url, answer.get_json())
        assert len(sent_statements) == 1, (method, url, sent_statements)


def test_a_list_not_modified_is_one_read_and_no_page(client, user, task, sent_statements):
    """304 is decided by reading the user's change number, before any page or count."""
    tasks_url = f"/api/{user['user_id']}/tasks"
    for query in ("", "?limit=1&sort=-title", "?deleted=true", "?q=milk&completed=false"):
        etag = client.get(tasks_url + query, headers=user["headers"]).headers["ETag"]
        sent_statements.clear()
        answer = client.get(tasks_url + query, headers={**user["headers"], "If-None-Match": etag})
        assert answer.status_code == 304, query
        assert answer.headers["ETag"] == etag
        [statement] = sent_statements
        assert "LIMIT" not in statement and "ORDER BY" not in statement


def test_an_empty_feed_poll_is_one_read(client, user, task, sent_statements):
    changes_url = f"/api/{user['user_id']}/changes"
    cursor = client.get(changes_url, headers=user["headers"]).get_json()["next"]
    sent_statements.clear()
    answer = client.get(changes_url, query_string={"since": cursor}, headers=user["headers"])
    assert answer.get_json()["tasks"] == [] and answer.get_json()["deleted"] == []
    assert len(sent_statements) == 1
