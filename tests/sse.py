"""A Server-Sent Events client for the tests: opens a feed stream with a ticket (optionally
resuming from an event id) and parses events as the HTML standard says."""

import http.client
import json
from dataclasses import dataclass


@dataclass
class Event:
    id: str | None
    event: str
    data: str

    @property
    def page(self) -> dict:
        return json.loads(self.data)


class EventStream:
    """One open stream; `next()` gives the next event (comments counted in `comments`)."""

    def __init__(self, server, user_id, headers, last_id=None, timeout: float = 30):
        status, _, ticket = server.call("POST", f"/api/{user_id}/changes/tickets", headers=headers)
        assert status == 201, ticket
        self.connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
        sent = {"Last-Event-ID": last_id} if last_id else {}
        self.connection.request("GET", ticket["stream"], headers=sent)
        self.response = self.connection.getresponse()
        self.status = self.response.status
        self.headers = self.response.headers
        self.comments = 0
        self.retry = None

    def next(self) -> Event | None:
        """The next event; None when the server ended the stream."""
        fields = {"data": []}
        while True:
            line = self.response.readline()
            if not line:
                return None
            line = line.decode().rstrip("\n")
            if not line:
                if fields["data"] or "event" in fields:
                    data = "\n".join(fields["data"])
                    return Event(fields.get("id"), fields.get("event", "message"), data)
                continue
            if line.startswith(":"):
                self.comments += 1
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                fields["data"].append(value)
            elif name == "retry":
                self.retry = int(value)
            else:
                fields[name] = value

    def close(self):
        self.connection.close()


def apply(state: dict, page: dict) -> None:
    """A client's copy of its tasks (id -> version), brought up to date by a feed page."""
    for task in page["tasks"]:
        state[task["id"]] = task["version"]
    for gone in page["deleted"]:
        state.pop(gone["id"], None)
