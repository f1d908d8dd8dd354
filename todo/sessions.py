"""Flask's cookie session, which this API has no use for."""

from flask.sessions import NullSession, SessionInterface


class NoSessions(SessionInterface):
    """Every request gets one shared, empty, read-only session (writing to it raises, as
    Flask's own null session does): the API authenticates with bearer tokens and never sets
    a session cookie, and no request pays for Flask opening a cookie session it would never
    use (a signing serializer looked up and a fresh null session made: ~1% of a task
    read's CPU, py-spy)."""

    session = NullSession()

    def open_session(self, app, request) -> NullSession:
        return self.session

    def save_session(self, app, session, response) -> None:
        """Nothing to save: Flask skips this for a null session anyway."""
