"""The app's Flask class (todo/application.py)."""

from todo.application import REMEMBERED_AT_MOST, App
from todo.requests import label_response


def test_ensure_sync_is_remembered_for_a_bounded_number_of_functions():
    """Each function's answer is remembered, so Flask's views and hooks are looked at once;
    functions made per request (after_this_request) cannot grow the memory past its bound,
    and are still answered. (An app of its own: the shared one's memory stays its own.)"""
    app = App(__name__)
    made = [lambda number=number: number for number in range(REMEMBERED_AT_MOST + 100)]
    for function in made:
        assert app.ensure_sync(function) is function
    assert len(app.synced) == REMEMBERED_AT_MOST
    assert app.ensure_sync(made[-1])() == REMEMBERED_AT_MOST + 99


def test_views_and_hooks_still_run_through_it(app, client, user):
    """The view and hooks of a request are remembered as Flask calls them, and their work
    still shows: the task list answers, labelled by its after-request hook."""
    answer = client.get(f"/api/{user['user_id']}/tasks", headers=user["headers"])
    assert answer.status_code == 200
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["X-Request-ID"]
    assert app.view_functions["tasks.list_tasks"] in app.synced
    assert label_response in app.synced
