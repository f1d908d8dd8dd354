"""The README and the guides in docs/, as a reader meets them: every `bash` block of every page
runs as written, in one bash (the README's first, then each guide in the README's order)
against a real gunicorn on PostgreSQL, the pages' localhost:4000 pointed at it; what the
recipes say they print is what they print; and every link between the pages leads somewhere."""

import os
import re
import secrets
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BASH_BLOCK = re.compile(r"```bash\n(.*?)```", re.S)
FENCE = re.compile(r"```.*?```", re.S)
LINK = re.compile(r"\]\(([^)\s]+)\)")
GUIDE_LINK = re.compile(r"\]\((docs/[\w-]+\.md)\)")


def guides() -> list[Path]:
    """The guides, in the order the README's table lists them (each once)."""
    listed = dict.fromkeys(GUIDE_LINK.findall(README.read_text()))
    return [ROOT / name for name in listed]


def pages() -> list[Path]:
    return [README, *guides()]


def marker(page: Path) -> str:
    return f"--- {page.relative_to(ROOT)}"


def test_every_guide_is_listed_on_the_front_page():
    assert sorted(guides()) == sorted((ROOT / "docs").glob("*.md"))


def test_every_bash_block_of_every_page_runs_as_written(database_url, servers, redis_url, tmp_path):
    """With the project's virtualenv first on the PATH (the webhooks receiver imports
    standardwebhooks), `flask todo deliver` running beside the server, allowed to send to
    this machine (as docs/webhooks.md says), and with Redis, `flask todo work` too (large
    imports, docs/portability.md)."""
    server = servers(
        database_url,
        WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8",
        RATELIMIT_STORAGE_URI=redis_url,
        RATELIMIT_KEY_PREFIX=f"readme-{secrets.token_hex(6)}:",
    )
    parts = ["set -e"]
    for page in pages():
        parts.append(f'echo "{marker(page)}"')
        parts += BASH_BLOCK.findall(page.read_text())
    script = "\n".join(parts).replace("http://localhost:4000", f"http://127.0.0.1:{server.port}")
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    with (tmp_path / "services.log").open("w") as log:
        services = [
            subprocess.Popen(
                [sys.executable, "-m", "flask", "todo", command],
                cwd=ROOT,
                env={**server.env, "WEBHOOK_POLL_SECONDS": "0.1"},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            for command in ("deliver", "work")
        ]
        try:
            ran = subprocess.run(
                ["bash", "-c", script],
                capture_output=True,
                text=True,
                timeout=300,
                env={**os.environ, "PATH": path},
            )
        finally:
            for service in services:
                service.terminate()
                service.wait()
    assert ran.returncode == 0, ran.stdout[-4000:] + ran.stderr[-4000:]
    printed = printed_by_page(ran.stdout)
    sync = printed["docs/sync.md"].split()
    assert sync == ["201", "201", "Call", "mum", "204", "False", "None", "201", "304"], sync
    assert printed["docs/live.md"].splitlines() == ["Seen at once", "1", "Seen at once"]
    today = datetime.now(ZoneInfo("Pacific/Kiritimati")).date()
    assert printed["docs/dates.md"].splitlines() == [
        "['Water the plants']",
        "['Pay rent']",
        f"False {today + timedelta(days=2)}",
        f"['{today}']",
    ]
    assert printed["docs/organize.md"].splitlines() == [
        "['Plan', 'Ship', 'Build']",
        "409",
        "Home 1/2",
        "['Fix the tap', 'Paint']",
        "204",
        "2",
        "Pack 1/3",
        "204",
        "{'completed': 1, 'total': 3}",
    ]
    assert printed["docs/sharing.md"].splitlines() == [
        "201",
        "204",
        "Groceries editor True 1",
        "['editor']",
        "201",
        "['Bread', 'Milk']",
        "Bread True",
        "['Bread', 'Milk']",
        "204",
        "[]",
        "2 [('left', True)]",
        "403",
        "['Bread', 'Milk']",
    ]
    assert printed["docs/webhooks.md"].splitlines() == [
        "202",
        "ping",
        "1 Feed the cat",
        "204",
        "204",
    ]
    portability = printed["docs/portability.md"].splitlines()
    url, polled, revoked, gone = portability[17:]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/calendar/<secret>\.ics", url), url
    assert int(polled) > 0 and (revoked, gone) == ("204", "404")
    assert portability[:17] == [
        "todo-export 1 False",
        "CATEGORIES:home",
        "DUE;VALUE=DATE:20261224",
        "PRIORITY:1",
        "RRULE:FREQ=WEEKLY",
        "SUMMARY:Water the ficus",
        "304",
        'Water the ficus 2026-12-24 FREQ=WEEKLY ["home"]',
        "False 2 0 2",
        "True 2 0 2",
        "True 0 2 2",
        "True 1 0 0",
        "Water the ficus 2026-12-24 FREQ=WEEKLY ['home']",
        "True True True 0",
        "True False False 0",
        "202",
        "finished 200 2000",
    ]


def printed_by_page(stdout: str) -> dict[str, str]:
    """What each page's blocks printed, by the page's path."""
    found, current = {}, None
    for line in stdout.splitlines(keepends=True):
        if line.startswith("--- "):
            current = line[4:].strip()
            found[current] = ""
        elif current is not None:
            found[current] += line
    return found


def test_every_link_between_the_pages_leads_to_a_page_and_a_heading():
    broken = []
    for page in pages():
        for target in LINK.findall(FENCE.sub("", page.read_text())):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists():
                broken.append(f"{page.name}: {target}")
            elif anchor and linked.is_file() and anchor not in anchors(linked):
                broken.append(f"{page.name}: {target} (no such heading)")
    assert broken == []


def anchors(page: Path) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces
    as dashes."""
    headings = re.findall(r"^#+ (.+)$", FENCE.sub("", page.read_text()), re.M)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}
