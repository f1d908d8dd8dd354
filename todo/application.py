"""The Flask class the factory makes its app of."""

from collections.abc import Callable

from flask import Flask, request

from logs import redacted

# Functions whose `ensure_sync` is remembered at most: views, hooks and error handlers are a
# few dozen; a function made per request (`after_this_request`) must not make it grow.
REMEMBERED_AT_MOST = 512


class App(Flask):
    """Flask, with `ensure_sync` (its documented override point for how views and hooks are
    called) remembered per function. Flask asks it for every view and hook it calls, about
    ten a request, and each time `inspect.iscoroutinefunction` works the answer out again
    (~76k instructions, 5% of a task read's in-process instructions, callgrind); for one
    function it never changes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.synced: dict[Callable, Callable] = {}

    def ensure_sync(self, func: Callable) -> Callable:
        synced = self.synced.get(func)
        if synced is None:
            synced = super().ensure_sync(func)
            if len(self.synced) < REMEMBERED_AT_MOST:
                self.synced[func] = synced
        return synced

    def log_exception(self, exc_info) -> None:
        """Flask's line for an unhandled error, with the path as the access log writes it: a
        calendar feed's URL holds its secret, which no log line may keep."""
        self.logger.error(
            f"Exception on {redacted(request.path)} [{request.method}]", exc_info=exc_info
        )
