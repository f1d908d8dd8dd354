"""Throttling of password checks (logins, failed logins, password re-checks) and sign-ups, on the
`limits` library: fixed windows counted in memory or in Redis (RATELIMIT_STORAGE_URI), so with
Redis they hold across every worker and host.

An attempt is counted before its password is checked (an atomic increment), so however many
guesses arrive at once, no more than the limit are ever checked; unless the caller says the
attempt counts (`Attempt.keep`: a wrong password), its count is given back when it ends, so
successful logins, and logins the database could not answer, cost nothing.

The store is asked with short timeouts (RATELIMIT_STORAGE_TIMEOUT): when it fails or stalls,
throttling fails open to counts in this process's memory for RATELIMIT_STORAGE_RETRY seconds,
so a Redis outage costs a login a fraction of a second once, and never locks anyone out.

Knows no HTTP: callers give the keys (email, client address, user id) and turn `Throttled`
into a 429.
"""

import logging
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from flask import Flask, current_app
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, Storage, storage_from_string
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

# What each throttle counts, with the setting that holds its limits.
LOGIN_PER_EMAIL_AND_ADDRESS = "RATELIMIT_LOGIN_PER_EMAIL_AND_ADDRESS"
LOGIN_PER_EMAIL = "RATELIMIT_LOGIN_PER_EMAIL"
LOGIN_PER_ADDRESS = "RATELIMIT_LOGIN_PER_ADDRESS"
LOGINS_PER_ADDRESS = "RATELIMIT_LOGINS_PER_ADDRESS"
SIGNUP_PER_ADDRESS = "RATELIMIT_SIGNUP_PER_ADDRESS"
PASSWORD_CHECK_PER_USER = "RATELIMIT_PASSWORD_CHECK_PER_USER"
INVITATIONS_PER_OWNER = "RATELIMIT_INVITATIONS_PER_OWNER"
CALENDAR_PER_SUBSCRIPTION = "RATELIMIT_CALENDAR_PER_SUBSCRIPTION"
# What a refused attempt was too many of, for the sentence that answers it.
TOO_MANY = {
    LOGIN_PER_EMAIL_AND_ADDRESS: "Too many failed logins to this account from this address",
    LOGIN_PER_EMAIL: "Too many failed logins to this account",
    LOGIN_PER_ADDRESS: "Too many failed logins from this address",
    LOGINS_PER_ADDRESS: "Too many logins from this address",
    SIGNUP_PER_ADDRESS: "Too many sign-ups from this address",
    PASSWORD_CHECK_PER_USER: "Too many wrong passwords for this account",
    INVITATIONS_PER_OWNER: "Too many invitations from this account today",
    CALENDAR_PER_SUBSCRIPTION: "Too many polls of this calendar",
}
SETTINGS = tuple(TOO_MANY)


class Throttled(Exception):
    """An attempt past a limit: `retry_after` seconds until its window resets."""

    def __init__(self, setting: str, retry_after: int):
        self.setting = setting
        self.retry_after = retry_after
        self.sentence = f"{TOO_MANY[setting]}; try again in {retry_after} seconds."
        super().__init__(self.sentence)


@dataclass
class Attempt:
    """The counts one attempt added; given back when it ends unless `keep()` was called."""

    counted: list[tuple[Storage, str, int]] = field(default_factory=list)
    kept: bool = False

    def keep(self) -> None:
        self.kept = True


class Throttles:
    """One app's limits and where their counts live."""

    def __init__(self, config: dict):
        self.enabled = config["RATELIMIT_ENABLED"]
        self.prefix = config["RATELIMIT_KEY_PREFIX"]
        self.retry_shared_after = config["RATELIMIT_STORAGE_RETRY"]
        self.limits = {setting: parse_many(config[setting]) for setting in SETTINGS}
        self.shared = shared_storage(
            config["RATELIMIT_STORAGE_URI"], config["RATELIMIT_STORAGE_TIMEOUT"]
        )
        self.local = MemoryStorage()
        self.shared_down_until = 0.0

    def storage(self) -> Storage:
        return self.local if time.monotonic() < self.shared_down_until else self.shared

    def count(self, attempt: Attempt, setting: str, key: str) -> None:
        """Count the attempt against each of the setting's limits; Throttled past one."""
        for limit in self.limits[setting]:
            storage, name = self.storage(), limit.key_for(self.prefix, setting, key)
            try:
                total = storage.incr(name, limit.get_expiry())
            except Exception as error:  # the shared store failed or stalled: fail open
                storage = self.fail_over(error)
                total = storage.incr(name, limit.get_expiry())
            attempt.counted.append((storage, name, limit.get_expiry()))
            if total > limit.amount:
                raise Throttled(setting, self.retry_after(storage, name, limit))

    def retry_after(self, storage: Storage, name: str, limit: RateLimitItem) -> int:
        try:
            reset = storage.get_expiry(name)
        except Exception:
            reset = time.time() + limit.get_expiry()
        return max(1, math.ceil(reset - time.time()))

    def fail_over(self, error: Exception) -> Storage:
        log.warning(
            "throttling store unavailable (%s); counting in memory for %g s",
            error,
            self.retry_shared_after,
        )
        self.shared_down_until = time.monotonic() + self.retry_shared_after
        return self.local

    def give_back(self, attempt: Attempt) -> None:
        for storage, name, expiry in attempt.counted:
            try:
                storage.incr(name, expiry, amount=-1)
            except Exception:  # the store is away: the count stays, the window ends it
                log.warning("could not give back a throttling count", exc_info=True)


def shared_storage(uri: str, timeout: float) -> Storage:
    """The store of RATELIMIT_STORAGE_URI; Redis asked with short timeouts and no retries (a
    failure falls over to memory at once)."""
    if uri.startswith(("redis://", "rediss://", "redis+unix://")):
        return storage_from_string(
            uri,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )
    return storage_from_string(uri)


@contextmanager
def attempt(*checks: tuple[str, str]) -> Iterator[Attempt]:
    """Count an attempt against each (setting, key) in `checks` (Throttled past a limit); on
    leaving the block the counts are given back, unless the block called `keep()`."""
    throttles: Throttles = current_app.extensions["throttles"]
    made = Attempt()
    if not throttles.enabled:
        yield made
        return
    try:
        for setting, key in checks:
            throttles.count(made, setting, key)
        yield made
    finally:
        if not made.kept:
            throttles.give_back(made)


def init_app(app: Flask) -> None:
    app.extensions["throttles"] = Throttles(app.config)
