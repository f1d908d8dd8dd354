"""A browser's EventSource, in headless Chromium, follows the stream with a ticket: the recipe
of docs/live.md as written, against a real gunicorn. Chromium is Debian's (`make chromium`,
which this test runs when it is missing), driven by playwright-core (tests/clients/browser)."""

import json
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from tests.node import CLIENTS, installed
from tests.servers import create_task, sign_in, wait_for

ROOT = Path(__file__).resolve().parent.parent
RECIPE = re.search(r"```js\n(.*?)```", (ROOT / "docs" / "live.md").read_text(), re.S)[1]


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium, installed through the Makefile when missing."""
    if shutil.which("chromium") is None:
        subprocess.run(["make", "-s", "chromium"], cwd=ROOT, timeout=600, check=False)
    found = shutil.which("chromium")
    if found is None:
        give_up = pytest.fail if os.environ.get("CI", "").lower() == "true" else pytest.skip
        give_up("Chromium could not be installed (make chromium)")
    return found


def test_a_browser_eventsource_follows_the_stream_with_a_ticket(database_url, servers, chromium):
    server = servers(database_url, LIVE_HEARTBEAT_SECONDS="15", LIVE_FALLBACK_SECONDS="15")
    user_id, headers = sign_in(server)
    token = headers["Authorization"].removeprefix("Bearer ")
    package = installed(CLIENTS / "browser")
    env = {
        **os.environ,
        "API": f"http://127.0.0.1:{server.port}",
        "USER_ID": user_id,
        "TOKEN": token,
        "RECIPE": RECIPE,
        "CHROMIUM": chromium,
    }
    browser = subprocess.Popen(
        ["node", "follow.mjs"], cwd=package, env=env, stdout=subprocess.PIPE, text=True
    )
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(browser.stdout), daemon=True)
    reader.start()
    try:
        wait_for(lambda: len(lines) >= 1, 60)  # the first sync: where the stream starts
        assert json.loads(lines[0])["tasks"] == []
        task = create_task(server, user_id, headers, "Seen in the browser")
        wait_for(lambda: len(lines) >= 2, 30)
        assert [each["title"] for each in json.loads(lines[1])["tasks"]] == [task["title"]]
        assert server.call("POST", "/api/auth/logout", headers=headers)[0] == 204
        assert browser.wait(30) == 0
        reader.join(10)
        assert json.loads(lines[-1]) == {"ended": "token_revoked"}
    finally:
        browser.kill()
        browser.wait(10)
        reader.join(10)
        browser.stdout.close()
