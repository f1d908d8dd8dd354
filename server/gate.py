"""What the app sees of the worker's live requests (server/live.py): one Gate per request, in
the WSGI environ under `todo.live`, through which a view asks the worker to hold its request.

A view that has nothing to answer yet calls `wait(keys, deadline)`: the worker sends nothing,
keeps the connection without a thread, and runs the same request again when any of `keys` is
woken, at a periodic re-check, or at `deadline` (then `over` is true and the view answers as
it is). A view that opens an event stream calls `stream(keys, stream)`: the worker sends the
view's answer (the stream's head) and then, without a thread, holds the connection and writes
what `stream.step(beat)` gives, run in a thread, each time one of its keys is woken and at
least every heartbeat (`beat`: a heartbeat is due): `data` to send, `more` (step again at
once), `end` (the stream ends after it) and `keys` (when not empty: the keys it waits on from
now); as the server drains, `stream.drained()` gives its last bytes. The first key is the
user's, by which the holding is admitted (a member's feed waits on the owners' too). An
export is a stream too, `export(key, stream)`: its steps give a piece of the file each, with
`more` until the last (`end`); it waits on no key, is admitted against limits of its own
(exports in progress), and a drain lets it finish (its `drained()` gives None).
All three return None once admitted, or a Refusal (a per-user or per-worker limit) to answer.
`wake(keys)` tells every worker on every host that the users `keys` have a change, once this
request's answer is out: the worker's main thread takes the keys from the gate as it takes the
connection back (server/worker.py), so the request's thread does no I/O for it.
"""

from dataclasses import dataclass

ENVIRON_KEY = "todo.live"


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why the worker will not hold one more request: `status` 429 (the user's limit) or 503
    (this worker's), with the seconds to wait before trying again."""

    status: int
    retry_after: int
    detail: str


class Gate:
    """One request's way to the worker's hub; `deadline`/`over`: the wait it was held for,
    when this run is a re-run of a held request (else None/False)."""

    __slots__ = ("chunked", "deadline", "held", "hub", "over", "slot", "streamed", "woken")

    def __init__(self, hub, deadline: float | None = None, over: bool = False, slot=None):
        self.hub = hub
        self.deadline, self.over = deadline, over
        self.slot = slot  # the admission this request holds (kept across its re-runs)
        self.held = None  # (keys, deadline) once the view asked to wait
        self.streamed = None  # (keys, stream) once the view opened a stream
        self.chunked = False  # the stream's answer is sent in chunks
        self.woken = None  # the keys to wake once the answer is out

    def wait(self, keys: tuple[str, ...], deadline: float) -> Refusal | None:
        if self.slot is None:
            admitted = self.hub.admit(keys[0], deadline)
            if isinstance(admitted, Refusal):
                return admitted
            self.slot = admitted
        self.held = (keys, deadline)
        return None

    def stream(self, keys: tuple[str, ...], stream) -> Refusal | None:
        return self.hold_stream(keys[0], keys, stream, export=False)

    def export(self, key: str, stream) -> Refusal | None:
        return self.hold_stream(key, (), stream, export=True)

    def hold_stream(self, key: str, keys: tuple[str, ...], stream, export: bool):
        """Admitted by `key` (against the exports' limits for an `export`), waiting on `keys`."""
        admitted = self.hub.admit(key, None, export=export)
        if isinstance(admitted, Refusal):
            return admitted
        self.slot = admitted
        self.streamed = (keys, stream)
        return None

    def wake(self, keys: list[str]) -> None:
        self.woken = keys if self.woken is None else [*self.woken, *keys]

    @property
    def draining(self) -> bool:
        return self.hub.draining
