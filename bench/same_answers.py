"""Compare two servers' answers on one database (bench/same_answers.sh): NOW BEFORE."""

import json
import sys
import urllib.error
import urllib.request

NOW, BEFORE = sys.argv[1], sys.argv[2]
NOT_COMPARED = ("Date", "X-Request-ID")


def call(base, method, path, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, method=method, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def comparable(answer, base: str, path: str):
    status, headers, body = answer
    headers = {key: value for key, value in headers.items() if key not in NOT_COMPARED}
    if "Link" in headers:
        headers["Link"] = headers["Link"].replace(base, "")
    if "/changes" in path:  # the feed's cursor is signed with the time it was issued
        document = json.loads(body)
        document.pop("next")
        body = json.dumps(document).encode()
    return status, headers, body


credentials = {"email": "ident@example.com", "password": "password123"}
call(NOW, "POST", "/api/auth/signup", credentials)
login = json.loads(call(NOW, "POST", "/api/auth/login", credentials)[2])
token, uid = login["token"], login["user_id"]
user_url = f"/api/{uid}"
task_list = json.loads(call(NOW, "POST", f"{user_url}/lists", {"name": "Home"}, token)[2])
ids = []
bodies = [
    {"title": "plain"},
    {
        "title": "all day",
        "due": {"date": "2026-12-24"},
        "priority": 3,
        "labels": ["Home", "errands"],
    },
    {"title": "floating", "due": {"date": "2026-12-24", "time": "18:30"}, "description": "x\ty"},
    {
        "title": "zoned",
        "due": {"date": "2026-12-24", "time": "09:00", "timezone": "Asia/Tokyo"},
        "reminders": [{"before": "PT15M"}],
    },
    {
        "title": "recurring",
        "due": {"date": "2026-12-01"},
        "recurrence": {"rule": "FREQ=DAILY;INTERVAL=2", "from": "due"},
    },
    {"title": "in list", "list_id": task_list["id"]},
]
for fields in bodies:
    status, _, created = call(NOW, "POST", f"{user_url}/tasks", fields, token)
    assert status == 201, (status, created)
    ids.append(json.loads(created)["id"])
call(NOW, "POST", f"{user_url}/tasks", {"title": "child", "parent_id": ids[0]}, token)
call(NOW, "PATCH", f"{user_url}/tasks/{ids[1]}", {"completed": True}, token)
call(NOW, "PATCH", f"{user_url}/tasks/{ids[4]}", {"completed": True}, token)
call(NOW, "DELETE", f"{user_url}/tasks/{ids[2]}", None, token)
paths = [
    f"{user_url}/tasks",
    f"{user_url}/tasks?limit=2",
    f"{user_url}/tasks?sort=due",
    f"{user_url}/tasks?sort=-completed_at&limit=1",
    f"{user_url}/tasks?deleted=true",
    f"{user_url}/tasks?label=home",
    f"{user_url}/tasks?list_id=inbox",
    f"{user_url}/changes",
    f"{user_url}/changes?limit=2",
    f"{user_url}/lists",
    f"{user_url}/labels",
    f"{user_url}/completions",
    "/api/auth/me",
] + [f"{user_url}/tasks/{i}" for i in ids]
differences = 0
for path in paths:
    now = comparable(call(NOW, "GET", path, None, token), NOW, path)
    before = comparable(call(BEFORE, "GET", path, None, token), BEFORE, path)
    differences += now != before
    print("same" if now == before else "DIFFERENT", now[0], len(now[2]), path)
    if now != before:
        print("  now   ", now)
        print("  before", before)
print(f"{len(paths)} answers compared, {differences} different")
sys.exit(1 if differences else 0)
