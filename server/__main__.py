"""`python -m server [gunicorn options]`: the server, `gunicorn -c gunicorn.conf.py wsgi:app`,
once every setting has been checked.

gunicorn's config module reads WEB_CONCURRENCY from the environment as it is imported (the
default of its `workers` setting is `int()` of it), before gunicorn.conf.py runs: started as
`gunicorn …`, a value that is not a number stops it with a traceback. Checked here first, it
stops it with the one line every other setting gets. Then this process becomes gunicorn (the
same process: a supervisor's signals reach gunicorn's arbiter).
"""

import os
import sys
from pathlib import Path

from logs import exit_on_setting_error
from settings import check_all

CONFIG = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"

if __name__ == "__main__":
    with exit_on_setting_error():
        check_all()
    gunicorn = [sys.executable, "-m", "gunicorn", "-c", str(CONFIG), *sys.argv[1:], "wsgi:app"]
    os.execv(sys.executable, gunicorn)
