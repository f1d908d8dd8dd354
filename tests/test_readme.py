"""The README's bash blocks run as written: the walkthrough, then the sync and dates recipes,
in one bash against a real gunicorn on PostgreSQL (the README's localhost:4000 pointed at it)."""

import re
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

README = Path(__file__).resolve().parent.parent / "README.md"
BASH_BLOCK = re.compile(r"```bash\n(.*?)```", re.S)


def block_after(heading: str, starting: str) -> str:
    """The first bash block after `heading` whose text starts with `starting`."""
    text = README.read_text()
    section = text[text.index(heading) :]
    return next(b for b in BASH_BLOCK.findall(section) if b.lstrip().startswith(starting))


def test_the_walkthrough_and_the_recipes_run_as_written(database_url, servers):
    server = servers(database_url)
    script = "set -e\n" + "\n".join(
        [
            block_after("## Walkthrough", "# Sign up"),
            'echo "--- recipe"',
            block_after("### Sync", "API="),
            'echo "--- dates"',
            block_after("### Dates", "API="),
            'echo "--- order"',
            block_after("### Order", "API="),
            'echo "--- lists"',
            block_after("### Task lists", "API="),
            'echo "--- subtasks"',
            block_after("### Subtasks", "API="),
        ]
    ).replace("http://localhost:4000", f"http://127.0.0.1:{server.port}")
    ran = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    recipe = ran.stdout.split("--- recipe\n", 1)[1].split("--- dates\n")[0].split()
    assert recipe == ["201", "201", "Call", "mum", "204", "False", "None", "201", "304"], recipe
    dates, order = ran.stdout.split("--- dates\n", 1)[1].split("--- order\n")
    order, task_lists = order.split("--- lists\n")
    task_lists, subtasks = task_lists.split("--- subtasks\n")
    assert subtasks.splitlines() == ["Pack 1/3", "204", "{'completed': 1, 'total': 3}"]
    assert order.splitlines() == ["['Plan', 'Ship', 'Build']", "409"], ran.stdout
    assert task_lists.splitlines() == ["Home 1/2", "['Fix the tap', 'Paint']", "204", "2"]
    dates = dates.splitlines()
    today = datetime.now(ZoneInfo("Pacific/Kiritimati")).date()
    assert dates == [
        "['Water the plants']",
        "['Pay rent']",
        f"False {today + timedelta(days=2)}",
        f"['{today}']",
    ], ran.stdout
