"""An export the serving worker writes a piece at a time (server/gate.py: `export`), so that
an export of any size never holds a thread for long: an iCalendar file of 100,000 tasks takes
~23 s to write (bench/RESULTS.md), which in its request would hold one of a worker's two
threads all along, and a client that reads slowly as long as it likes.

The view sends the file's first piece and hands the rest over: each step then runs in one of
the worker's threads, in turn with the other requests, and takes the next piece (a page of
rows, a few hundred at most) in an app context of its own, so a database connection is
borrowed for that step only. The worker sends what a step gives without a thread and asks
for the next once it is sent: a slow client costs no thread, and a departed one ends the
export. A drain lets an export run to its end (within the graceful timeout) rather than cut
it: a cut file would look whole."""

import time
from collections.abc import Iterable, Iterator

from flask import Flask

from ..holding import Step

CEDE_SECONDS = 0.002  # the longest an export's thread keeps the GIL from a request beside it


class ExportSteps:
    def __init__(self, app: Flask, pieces: Iterator[bytes]):
        self.app, self.pieces = app, pieces

    def step(self, beat: bool) -> Step:
        """In a thread of the worker's: the next piece, or the end."""
        with self.app.app_context():
            piece = next(self.pieces, None)
        if piece is None:
            return Step(end=True)
        return Step(piece, more=True)

    def drained(self) -> None:
        """Nothing to say as the server drains: the export goes on."""
        return None


class CedingRows(list):
    """A page of rows that lets the GIL go every CEDE_SECONDS while its rows are written.
    Writing a piece is pure Python (an iCalendar page: ~45 ms), and a thread that holds the
    GIL keeps it for the interpreter's switch interval (5 ms) whenever another thread asks
    for it: a request served beside an export waits that long after each of its database
    round trips (a list read's p50 went from 2.6 to 19 ms beside an iCalendar export,
    bench/portability.sh). `time.sleep(0)` lets a waiting thread in at once, but costs the
    export a trip through the scheduler (~0.1 ms on a busy machine): after each row, it made
    exports 1.6-6x slower; every 2 ms, it costs a few percent."""

    def __iter__(self):
        ceded = time.perf_counter()
        for row in super().__iter__():
            yield row
            if (now := time.perf_counter()) - ceded >= CEDE_SECONDS:
                time.sleep(0)
                ceded = now


def ceding(pages: Iterable[list]) -> Iterator[CedingRows]:
    """The pages of an export, each ceding the GIL between its rows."""
    for page in pages:
        yield CedingRows(page)
