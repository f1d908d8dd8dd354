"""The Date header of every answer, formatted once a second."""

import time


class DateOncePerSecond:
    """gunicorn's `http_date` (util.http_date, which its responses call for the Date header),
    formatting the current time once a second instead of once an answer (email.utils'
    formatdate: ~1% of a task read's CPU, py-spy). The header has a second's resolution, so
    every answer gets the text it got before."""

    def __init__(self, format_date):
        self.format_date = format_date
        self.last = (-1, "")  # (the second, its text); replaced whole, so threads share it

    def __call__(self, timestamp: float | None = None) -> str:
        if timestamp is not None:
            return self.format_date(timestamp)
        second, text = self.last
        now = int(time.time())
        if now != second:
            text = self.format_date(now)
            self.last = (now, text)
        return text
