"""An export the serving worker writes a piece at a time (server/gate.py: `export`), so that
an export of any size never holds a thread for long: 100,000 tasks take tens of seconds to
write (bench/RESULTS.md), which in its request would hold one of a worker's two threads all
along, and a client that reads slowly longer still.

The view sends the file's first piece and hands the rest over: each step then runs in one of
the worker's threads, in turn with the other requests, and takes the next piece (a page of
rows, a few hundred at most) in an app context of its own, so a database connection is
borrowed for that step only. The worker sends what a step gives without a thread and asks
for the next once it is sent: a slow client costs no thread, and a departed one ends the
export. A drain lets an export run to its end (within the graceful timeout) rather than cut
it: a cut file would look whole."""

from collections.abc import Iterator

from flask import Flask

from ..holding import Step


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
