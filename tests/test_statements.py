"""Round trips per request: each task route runs one statement (the token's standing is a
condition of the route's own statement), and so does reading the account."""


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
        ("GET", "/api/auth/me", None),
    ]
    for method, url, body in calls:
        sent_statements.clear()
        answer = client.open(url, method=method, json=body, headers=user["headers"])
        assert answer.status_code < 300, (method, url, answer.get_json())
        assert len(sent_statements) == 1, (method, url, sent_statements)
