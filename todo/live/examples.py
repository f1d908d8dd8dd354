"""What the live routes' documentation shows, worded as they answer (tests/test_examples.py)."""

from ..errors import problem_example
from .events import HEARTBEAT, OPENING, end_event
from .tickets import InvalidTicket

TICKET = {
    "ticket": "WyJ0aWNrZXQiLCI3YWVjMzg2NyJd.N4hJGsUfnrZBvlIOrF91dQ",
    "expires_at": "2026-12-07T09:30:30Z",
    "stream": "/api/changes/stream?ticket=WyJ0aWNrZXQiLCI3YWVjMzg2NyJd.N4hJGsUfnrZBvlIOrF91dQ",
}
STREAM = (
    OPENING + b'id: WyI3YWVjMzg2NyIsMywxNzk2NjMzOTY5XQ.f0Jx2QnFh3kL0Qn0aUJ9AA\ndata: {"deleted":[],'
    b'"deleted_lists":[],"has_more":false,"lists":[],"next":"WyI3YWVjMzg2NyIsMywxNzk2NjMzOTY5XQ'
    b'.f0Jx2QnFh3kL0Qn0aUJ9AA","tasks":[{"id":"3b9e4d21-7c5a-4f86-b0e2-8a1d6c4f9e73",'
    b'"title":"Pack the bags"}]}\n\n' + HEARTBEAT + end_event("token_revoked")
).decode()
STREAM_PROBLEMS = {401: {"invalidTicket": problem_example(401, str(InvalidTicket()))}}
