"""How many requests a worker holds (server/live.py), and each user across every worker and
host: waiting polls and open streams together, and exports in progress apart (one Admissions
each).

A user's held requests are members of a Redis sorted set scored by when each lapses, so a
worker that dies without releasing its own leaves counts that lapse by themselves: a poll's at
its deadline (plus a heartbeat), a stream's unless a heartbeat renews it. Without Redis the
count is this worker's alone. Redis that fails or stalls admits (the per-worker bound holds).
"""

import contextlib
import itertools
import logging
import os
import threading
import time
from typing import NamedTuple

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from .gate import Refusal

log = logging.getLogger(__name__)

PREFIX = "todo:live:held:"
TIMEOUT = 0.2  # seconds Redis may take to answer before a count is taken as unknown
USER_RETRY_AFTER = 5


class Slot(NamedTuple):
    """One held request's admission: released and renewed by the Admissions that gave it."""

    admissions: "Admissions"
    key: str
    member: str


class Admissions:
    """`held`: what is counted, as a refusal names it ("open streams and waiting polls")."""

    def __init__(self, per_user: int, per_worker: int, redis_url: str | None, held: str):
        self.per_user, self.per_worker, self.held = per_user, per_worker, held
        self.lock = threading.Lock()
        self.count = 0
        self.local = {}  # key -> {member: lapses at}, without Redis
        self.members = (f"{os.getpid()}-{number}" for number in itertools.count())
        self.redis = None
        if redis_url:
            self.redis = redis.Redis.from_url(
                redis_url,
                socket_timeout=TIMEOUT,
                socket_connect_timeout=TIMEOUT,
                retry=Retry(NoBackoff(), 0),
            )

    def admit(self, key: str, seconds: float) -> Slot | Refusal:
        """A slot for one more held request of `key`, or a Refusal."""
        with self.lock:
            if self.count >= self.per_worker:
                return Refusal(
                    503, 1, f"This server holds as many {self.held} as it can; try again."
                )
            self.count += 1
            member = next(self.members)
        slot = Slot(self, key, member)
        if self.held_by(key, member, seconds) > self.per_user:
            self.release(slot)
            return Refusal(
                429,
                USER_RETRY_AFTER,
                f"This user already holds {self.per_user} {self.held}; "
                "close one, or try again later.",
            )
        return slot

    def held_by(self, key: str, member: str, seconds: float) -> int:
        """Add `member` to the key's held requests; how many it holds then."""
        now = time.time()
        if self.redis is None:
            with self.lock:
                held = self.local.setdefault(key, {})
                for old in [each for each, until in held.items() if until <= now]:
                    del held[old]
                held[member] = now + seconds
                return len(held)
        try:
            with self.redis.pipeline() as pipe:
                name = PREFIX + key
                pipe.zremrangebyscore(name, "-inf", now)
                pipe.zadd(name, {member: now + seconds})
                pipe.zcard(name)
                pipe.expire(name, int(seconds) + 60)
                return pipe.execute()[2]
        except redis.RedisError as error:
            log.warning("live limits: Redis unavailable (%s); admitting", error)
            return 0

    def renew(self, slots: list[Slot], seconds: float) -> None:
        """The held requests `slots` last `seconds` more; in one round trip to Redis."""
        lapses = time.time() + seconds
        if self.redis is None:
            with self.lock:
                for _, key, member in slots:
                    held = self.local.get(key)
                    if held is not None and member in held:  # not released meanwhile
                        held[member] = lapses
            return
        with contextlib.suppress(redis.RedisError), self.redis.pipeline(transaction=False) as pipe:
            for _, key, member in slots:  # else they lapse; the streams go on
                pipe.zadd(PREFIX + key, {member: lapses}, xx=True)
            pipe.execute()

    def release(self, slot: Slot) -> None:
        _, key, member = slot
        with self.lock:
            self.count -= 1
            held = self.local.get(key)
            if held is not None:
                held.pop(member, None)
                if not held:
                    del self.local[key]
        if self.redis is not None:
            with contextlib.suppress(redis.RedisError):  # else it lapses by itself
                self.redis.zrem(PREFIX + key, member)
