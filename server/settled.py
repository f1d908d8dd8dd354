"""gunicorn's settings as plain attributes, for the code that runs on every request."""


class SettledConfig:
    """A worker's gunicorn Config, each setting read from it once, then kept as an attribute.

    Config finds a setting through `__getattr__` and the Setting's `get` on every read, and
    gunicorn's parser, WSGI environ and response read dozens per request (~2% of a task
    read's CPU, py-spy). A worker's settings never change while it runs (a reload starts
    new workers), so what the first read gives holds for all later ones."""

    def __init__(self, config):
        self._config = config

    def __getattr__(self, name):
        value = getattr(self._config, name)
        setattr(self, name, value)
        return value
