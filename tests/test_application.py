"""The app's Flask class (todo/application.py)."""

from todo.application import REMEMBERED_AT_MOST


def test_ensure_sync_is_remembered_for_a_bounded_number_of_functions(app):
    """Each function's answer is remembered, so Flask's views and hooks are looked at once;
    functions made per request (after_this_request) cannot grow the memory past its bound,
    and are still answered."""
    made = [lambda number=number: number for number in range(REMEMBERED_AT_MOST + 100)]
    for function in made:
        assert app.ensure_sync(function) is function
    assert len(app.synced) == REMEMBERED_AT_MOST
    assert app.ensure_sync(made[-1])() == REMEMBERED_AT_MOST + 99


def test_views_and_hooks_still_run_through_it(client, user):
    """The views' and hooks' work still shows: the task list answers, labelled and logged."""
    answer = client.get(f"/api/{user['user_id']}/tasks", headers=user["headers"])
    assert answer.status_code == 200
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["X-Request-ID"]
