"""Waiting polls and event streams, held by a worker's main thread without a thread.

A request whose view asked to wait (server/gate.py) is kept as it is: its connection watched
for the client leaving, its bytes kept, and the same request handed to a thread again when one
of its keys is woken, at a periodic re-check, or at its deadline. An event stream is a
connection whose head a thread has sent; from then on its stream's `step()` runs in a thread
each time one of its keys is woken and at each heartbeat, and what it gives is written here
without blocking. No step is taken while bytes of the one before wait for the client: a
wake-up or `more` (step again at once) waits until they are sent, and a client that takes
nothing for a heartbeat interval is dropped. An export is such a stream too: its steps write
the file a piece at a time, each taken once the one before is sent.

Wake-ups come from every worker on every host (server/wake_channel.py). They are only hints:
every held request is re-checked at least every `heartbeat` seconds, and every `fallback`
seconds while the channel is down, so a lost wake-up delays a change, never loses it. A wake-up
that arrives while a thread runs the request (after its read, before it is held) is remembered
by key and time: the request is run again at once instead of being held.

What thousands of idle streams cost the requests beside them (bench/live.sh): the main thread
finds what is due in a heap of deadlines, not by looking at every held request four times a
second; and the streams' periodic steps (heartbeats with their token check, re-checks) are
paced: handed to the threads evenly over time, at PACE_HEADROOM times the average rate they
come due (the streams held over the re-check interval), a few at most together, instead of
every step due in the same quarter second (2,000 streams: ~33) queued ahead of the requests
at once. A periodic step is taken BEAT_LEAD early, and steps that waited longer than that all
go at once: pacing never makes a heartbeat late. A heartbeat's renewal of its admission goes
to Redis with the others due, in one round trip.
"""

import heapq
import itertools
import selectors
import time
from collections import defaultdict, deque
from functools import partial

from .closing import RECV_SIZE
from .connection import Connection
from .gate import Refusal
from .live_limits import Admissions
from .wake_channel import WakeChannel

PARKED, STREAMING = object(), object()  # what a thread's run of a request can end in
# Bytes a stream may have waiting for a slow client: a step's that would join unsent ones past
# this drop the client (one step's are always taken, however many: a page of a feed or of an
# export can be larger).
MAX_UNSENT = 1024 * 1024
MAX_BUFFERED = 64 * 1024  # bytes a held poll's client may send ahead before it is dropped
WOKEN_KEPT_SECONDS = 120.0  # how long a wake-up is remembered for requests still running
BEAT_LEAD = 1.0  # seconds (at most a tenth of the heartbeat) a periodic step is taken early
PACE_HEADROOM = 1.5  # the pace of periodic steps over the average rate they come due


class Held:
    """A connection held by the hub: a waiting poll (`stream` None) or an event stream."""

    __slots__ = (
        "again",
        "busy",
        "chunked",
        "closed",
        "conn",
        "deadline",
        "due",
        "ending",
        "gate",
        "keys",
        "next_beat",
        "next_check",
        "out",
        "sent_at",
        "stream",
    )

    def __init__(self, conn: Connection, gate, keys: tuple, deadline: float, stream=None):
        self.conn, self.gate, self.keys, self.deadline, self.stream = (
            conn,
            gate,
            keys,
            deadline,
            stream,
        )
        self.out = bytearray()
        self.chunked = False
        self.busy = self.again = self.ending = self.closed = False
        self.next_check = self.next_beat = self.due = 0.0
        self.sent_at = 0.0  # when the client last took bytes of `out` (or `out` last filled)


class LiveHub:
    """One worker's held requests, by key. Runs on the main thread, except `admit` (a
    request's thread) and the steps and releases (the worker's threads)."""

    def __init__(self, worker, settings):
        self.worker = worker
        self.heartbeat = settings.heartbeat
        self.fallback = settings.fallback
        self.lead = min(BEAT_LEAD, settings.heartbeat / 10)
        self.timers = []  # heap of (due, number, held), one entry per held request at most
        self.numbers = itertools.count()  # orders equal deadlines, never comparing Helds
        self.paced = deque()  # (due, held): periodic steps waiting for their turn
        self.allowance = 0.0  # periodic steps that may go now (a token bucket)
        self.paced_at = 0.0  # when the allowance was last topped up
        self.next_pace = float("inf")  # when the next waiting periodic step may go
        self.paced_at_once = worker.settings.threads  # the bucket's depth
        self.renewals = []  # admission slots whose stream had a heartbeat since the last tick
        self.by_key = defaultdict(set)
        self.held = {}
        self.woken_at = {}
        self.next_prune = 0.0
        self.draining = False
        self.admissions = Admissions(
            settings.per_user,
            settings.per_worker,
            settings.redis_url,
            "open streams and waiting polls",
        )
        self.export_admissions = Admissions(
            settings.exports_per_user,
            settings.exports_per_worker,
            settings.redis_url,
            "exports in progress",
        )
        self.channel = WakeChannel(
            settings.redis_url,
            self.deliver,
            self.recheck_all,
            worker.method_queue.defer,
            worker.log,
        )

    def start(self) -> None:
        self.channel.start()

    # -- from the app's threads ------------------------------------------------------------

    def admit(self, key: str, deadline: float | None, export: bool = False):
        """A slot for a poll held until `deadline`, a stream (no deadline) or an `export`."""
        if self.draining:
            return Refusal(503, 1, "The server is shutting down; try again shortly.")
        seconds = (deadline - time.monotonic()) if deadline else 3 * self.heartbeat
        admissions = self.export_admissions if export else self.admissions
        return admissions.admit(key, seconds + self.heartbeat)

    # -- holding (main thread) -------------------------------------------------------------

    def interval(self) -> float:
        return self.heartbeat if self.channel.up else min(self.fallback, self.heartbeat)

    def park(self, conn: Connection, gate) -> None:
        """A thread's run ended in a wait: hold the request, or run it again at once if its
        key was woken since it was handed over (or the server drains)."""
        keys, deadline = gate.held
        held = Held(conn, gate, keys, deadline)
        if self.draining:
            self.rerun(held, over=True, registered=False)
        elif max(self.woken_at.get(key, float("-inf")) for key in keys) >= conn.ready_at:
            self.rerun(held, over=False, registered=False)
        else:
            held.next_check = time.monotonic() + self.interval()
            self.hold(held)
            self.schedule(held, min(held.deadline, held.next_check))

    def open(self, conn: Connection, gate) -> None:
        """A thread has sent a stream's head: hold it and take its first step."""
        keys, stream = gate.streamed
        held = Held(conn, gate, keys, 0.0, stream)
        held.chunked = gate.chunked
        conn.sock.setblocking(False)
        held.next_beat = time.monotonic() + self.heartbeat - self.lead
        self.hold(held)
        if self.draining and (last := stream.drained()) is not None:
            self.end(held, last)
        else:
            self.step(held)

    def hold(self, held: Held) -> None:
        self.held[held.conn] = held
        self.listen(held)
        self.worker.poller.register(
            held.conn.sock, selectors.EVENT_READ, partial(self.on_readable, held)
        )

    def unhold(self, held: Held) -> None:
        self.held.pop(held.conn, None)
        self.unlisten(held)
        self.worker.poller.unregister(held.conn.sock)

    def schedule(self, held: Held, due: float) -> None:
        """Look at `held` again at `due`. A held request has one entry in the heap: a later
        due than its entry's waits for that entry to come up (then it is put off), so a
        stream woken often adds no entries."""
        if held.due and held.due <= due:
            return
        held.due = due
        heapq.heappush(self.timers, (due, next(self.numbers), held))

    def listen(self, held: Held) -> None:
        for key in held.keys:
            self.by_key[key].add(held)

    def unlisten(self, held: Held) -> None:
        for key in held.keys:
            waiting = self.by_key.get(key)
            if waiting is not None:
                waiting.discard(held)
                if not waiting:
                    del self.by_key[key]

    def rerun(self, held: Held, over: bool, registered: bool = True) -> None:
        """Hand the held request to a thread again; `over`: its wait has ended."""
        if registered:
            self.unhold(held)
        held.gate.over = over or self.draining
        held.conn.live = held.gate
        self.worker.dispatch(held.conn, held.conn.request, held.conn.framed)

    def on_readable(self, held: Held, _sock) -> None:
        conn = held.conn
        try:
            data = conn.sock.recv(RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self.drop(held)
        elif held.stream is None:
            conn.buffer += data  # a pipelined request: read once the poll is answered
            if len(conn.buffer) > MAX_BUFFERED:
                self.drop(held)

    def drop(self, held: Held) -> None:
        """The client left (or will not read): close without a word."""
        if held.closed:
            return
        held.closed = True
        self.unhold(held)
        self.worker.close(held.conn)
        self.release(held.gate)

    def release(self, gate) -> None:
        if gate is not None and gate.slot is not None:
            slot, gate.slot = gate.slot, None
            self.worker.request_threads.call(partial(slot.admissions.release, slot))

    # -- wake-ups and time (main thread) ---------------------------------------------------

    def wake_everywhere(self, keys: list[str]) -> None:
        """A write's answer is out (server/gate.py: `wake`): its users' held requests, here
        and on every other worker, look again."""
        self.channel.publish(keys)

    def deliver(self, keys) -> None:
        now = time.monotonic()
        for key in keys:
            self.woken_at[key] = now
            for held in list(self.by_key.get(key, ())):
                self.trigger(held)

    def recheck_all(self) -> None:
        """The channel is back: what it may have missed meanwhile is looked at now."""
        for held in list(self.held.values()):
            self.trigger(held)

    def trigger(self, held: Held) -> None:
        if held.stream is None:
            self.rerun(held, over=False)
        elif held.busy or held.out:
            held.again = True
        else:
            self.step(held)

    def next_due(self) -> float:
        """When the main loop next has to call `run_due`."""
        return min(self.timers[0][0], self.next_pace) if self.timers else self.next_pace

    def run_due(self, now: float) -> None:
        """What is due: a poll's deadline or re-check, a stream's heartbeat or re-check (as
        the pace allows)."""
        timers = self.timers
        while timers and timers[0][0] <= now:
            due, _, held = heapq.heappop(timers)
            if held.due != due or self.held.get(held.conn) is not held:
                continue  # answered or closed since (or an earlier entry took its place)
            held.due = 0.0
            if held.stream is None:
                self.rerun(held, over=now >= held.deadline)
            elif (wanted := min(held.next_check, held.next_beat)) > now:
                self.schedule(held, wanted)  # stepped since this entry was made
            elif held.out:
                self.stalled(held, now)
            elif held.busy:  # its step still runs: look again shortly (a stream keeps a timer)
                self.schedule(held, now + self.lead)
            elif not held.ending:
                self.paced.append((due, held))
        self.pace(now)

    def expire(self, now: float) -> None:
        """Each tick: the admissions the heartbeats since the last one renew."""
        if self.renewals:
            by_admissions = defaultdict(list)  # the streams' and the exports'
            for slot in self.renewals:
                by_admissions[slot.admissions].append(slot)
            self.renewals = []
            for admissions, slots in by_admissions.items():
                renew = partial(admissions.renew, slots, 3 * self.heartbeat)
                self.worker.request_threads.call(renew)
        if now >= self.next_prune:
            self.next_prune = now + WOKEN_KEPT_SECONDS
            old = now - WOKEN_KEPT_SECONDS
            self.woken_at = {key: at for key, at in self.woken_at.items() if at > old}

    def drain(self) -> None:
        """SIGTERM: every waiting poll is answered now, every stream ends with a retry hint
        (again as the worker stops: only what is still held); an export goes on to its end,
        as a request in flight does, within the graceful timeout."""
        self.draining = True
        for held in list(self.held.values()):
            if held.stream is None:
                self.rerun(held, over=True)
            elif not held.ending and (last := held.stream.drained()) is not None:
                self.end(held, last)

    def close_all(self) -> None:
        for held in list(self.held.values()):
            self.drop(held)

    # -- streams (main thread; steps in threads) -------------------------------------------

    def pace(self, now: float) -> None:
        """Start the periodic steps due as the pace allows (module docstring), those that
        waited longer than the lead at once; `next_pace`: when the main loop calls again."""
        rate = PACE_HEADROOM * max(len(self.held), 1) / self.interval()
        self.allowance = min(self.paced_at_once, self.allowance + (now - self.paced_at) * rate)
        self.paced_at = now
        self.next_pace = float("inf")
        paced = self.paced
        while paced:
            due, held = paced[0]
            if self.allowance < 1 and now - due <= self.lead:
                self.next_pace = now + (1 - self.allowance) / rate
                return
            paced.popleft()
            stepped_since = min(held.next_check, held.next_beat) > now
            if self.held.get(held.conn) is held and not (held.busy or held.ending or stepped_since):
                self.allowance -= 1
                self.step(held)

    def stalled(self, held: Held, now: float) -> None:
        """A periodic step is due while bytes still wait for the client: none is taken (the
        next follows once they are sent); a client that took nothing for a heartbeat
        interval is not reading, and is dropped."""
        if now - held.sent_at >= self.heartbeat:
            self.drop(held)
            return
        held.again = True
        if now >= held.next_beat:  # a slow client's admission lasts as a stream's does
            held.next_beat = now + self.heartbeat - self.lead
            if held.gate.slot is not None:
                self.renewals.append(held.gate.slot)
        self.schedule(held, held.sent_at + self.heartbeat)

    def step(self, held: Held) -> None:
        now = time.monotonic()
        beat = now >= held.next_beat
        if beat:
            held.next_beat = now + self.heartbeat - self.lead
            if held.gate.slot is not None:
                self.renewals.append(held.gate.slot)
        held.busy, held.again = True, False
        held.next_check = now + self.interval()
        self.schedule(held, min(held.next_check, held.next_beat))
        self.worker.request_threads.call(partial(self.run_step, held, beat))

    def run_step(self, held: Held, beat: bool) -> None:
        """In a thread: the stream's step."""
        try:
            result = held.stream.step(beat)
        except Exception:
            self.worker.log.exception("An event stream's step failed")
            result = None
        self.worker.method_queue.defer(self.stepped, held, result)

    def stepped(self, held: Held, result) -> None:
        held.busy = False
        if held.closed or held.ending:
            return
        if result is None:
            self.drop(held)
        elif result.end:
            self.end(held, result.data)
        else:
            if result.keys and result.keys != held.keys:  # a member's owners changed
                self.unlisten(held)
                held.keys = result.keys
                self.listen(held)
            held.again = held.again or result.more
            self.send(held, result.data)

    def send(self, held: Held, data: bytes) -> None:
        if data:
            if not held.out:
                held.sent_at = time.monotonic()
            elif len(held.out) + len(data) > MAX_UNSENT:
                self.drop(held)  # the client has not taken what came before: it is not reading
                return
            held.out += b"%X\r\n%b\r\n" % (len(data), data) if held.chunked else data
        self.flush(held)

    def end(self, held: Held, data: bytes) -> None:
        held.ending = True
        if held.chunked:
            data = (b"%X\r\n%b\r\n" % (len(data), data) if data else b"") + b"0\r\n\r\n"
            held.chunked = False
        self.send(held, data)

    def flush(self, held: Held, _sock=None) -> None:
        if held.closed:
            return
        conn = held.conn
        try:
            while held.out:
                sent = conn.sock.send(held.out)
                del held.out[:sent]
                held.sent_at = time.monotonic()
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            self.drop(held)
            return
        if held.out:
            events, callback = selectors.EVENT_WRITE, partial(self.flush, held)
        else:
            events, callback = selectors.EVENT_READ, partial(self.on_readable, held)
            if held.ending:
                held.closed = True
                self.unhold(held)
                self.release(held.gate)
                self.worker.linger(conn)
                return
            if held.again and not held.busy:
                self.step(held)
        self.worker.poller.modify(conn.sock, events, callback)
