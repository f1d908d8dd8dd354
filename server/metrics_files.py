"""The directory where gunicorn's processes count for /metrics (prometheus_client's
multiprocess mode: one file per process and kind of metric, added up at each scrape).

The arbiter makes it ready before the first worker is forked; at its start (not at a reload,
whose workers' counts carry on) the files of an earlier run are removed, so no count of theirs
is added in. Only those: files of the names prometheus_client writes. The directory is the
operator's, and might have been pointed at one holding anything else.
"""

import os
import re
import tempfile

from settings import invalid

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# What prometheus_client names its files (values.py: `{kind}[_{gauge mode}]_{pid}.db`).
COUNT_FILE = re.compile(r"(?:counter|histogram|summary|gauge_[a-z]+)_[0-9]+\.db")


def prepare(given: str | None) -> str:
    """The directory to count in: `given`, made if missing and written to once to be sure it
    can be (SettingError if not), or a new temporary one."""
    if given is None:
        return tempfile.mkdtemp(prefix="todo-metrics-")
    try:
        os.makedirs(given, exist_ok=True)
        with tempfile.TemporaryFile(dir=given):
            pass
    except OSError as error:
        raise invalid(VARIABLE, given, f"cannot be written ({error.strerror})") from None
    return given


def remove_earlier_counts(directory: str) -> None:
    for entry in os.scandir(directory):
        if COUNT_FILE.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
            os.unlink(entry.path)
