"""How a commit on one worker wakes the requests held on every other (server/live.py): Redis
publish/subscribe on one channel, each message the comma-separated keys (user ids) woken.

A thread of the worker's own (not one of its request threads) listens, and hands what arrives
to the main thread; another publishes what the main thread gives it, once a write's answer is
out (server/worker.py), every key given meanwhile in one message: no request's thread waits on
Redis, and a burst of writes is one round trip.

The channel is a hint: it pings the server every PING_SECONDS and takes itself as down when
no answer comes within three of them, or the connection breaks; while it is down the hub
re-checks every held request every LIVE_FALLBACK_SECONDS, and as it goes down or comes back
every held request is re-checked once. Without Redis, a wake-up reaches this
worker only, and the others re-check at the fallback pace.
"""

import queue
import threading
import time

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

CHANNEL = "todo:live:wake"
PING_SECONDS = 1.0
PUBLISH_TIMEOUT = 0.2
RECONNECT_SECONDS = 0.5


class WakeChannel:
    def __init__(self, url: str | None, deliver, recheck, defer, log):
        self.url = url
        self.deliver, self.recheck, self.defer, self.log = deliver, recheck, defer, log
        self.up = False
        self.publisher = None
        self.to_publish = queue.SimpleQueue()
        if url:
            self.publisher = redis.Redis.from_url(
                url,
                socket_timeout=PUBLISH_TIMEOUT,
                socket_connect_timeout=PUBLISH_TIMEOUT,
                retry=Retry(NoBackoff(), 0),
            )

    def start(self) -> None:
        if self.url:
            threading.Thread(target=self.listen, daemon=True, name="wake-channel").start()
            threading.Thread(target=self.publishing, daemon=True, name="wake-publisher").start()

    def publish(self, keys: list[str]) -> None:
        """From the main thread, once a write's answer is out."""
        if not self.up:  # this worker hears itself even when the channel is away
            self.deliver(keys)
        if self.publisher is not None:
            self.to_publish.put(keys)

    def publishing(self) -> None:
        """The publisher's thread: the keys given since its last message, in one."""
        while True:
            keys = dict.fromkeys(self.to_publish.get())
            while not self.to_publish.empty():
                keys.update(dict.fromkeys(self.to_publish.get()))
            try:
                self.publisher.publish(CHANNEL, ",".join(keys))
            except redis.RedisError as error:
                self.log.debug("wake-up not published: %s", error)

    def listen(self) -> None:
        while True:
            try:
                self.subscribed()
            except (redis.RedisError, OSError, TimeoutError) as error:
                if self.up:
                    self.log.warning("wake-up channel down (%s); re-checking by polling", error)
                    self.up = False
                    self.defer(self.recheck)  # and from now on at the fallback pace
            time.sleep(RECONNECT_SECONDS)

    def subscribed(self) -> None:
        client = redis.Redis.from_url(
            self.url, socket_timeout=3 * PING_SECONDS, socket_connect_timeout=PING_SECONDS
        )
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(CHANNEL)
            heard = pinged = time.monotonic()
            if not self.up:
                self.up = True
                self.defer(self.recheck)
            while True:
                message = pubsub.get_message(timeout=PING_SECONDS)
                now = time.monotonic()
                if message is not None:
                    heard = now
                    if message["type"] == "message":
                        self.defer(self.deliver, message["data"].decode().split(","))
                if now - heard > 3 * PING_SECONDS:
                    raise TimeoutError("no answer to pings")
                if now - pinged >= PING_SECONDS:
                    pinged = now
                    pubsub.ping()
        finally:
            pubsub.close()
            client.close()
