"""Prometheus metrics at /metrics, for operators: requests by route template and status, their
latency, requests in flight, database connections in use, throttled attempts.

Off unless METRICS_TOKEN is set, and then served only to a scraper that sends it as a bearer
token. Under gunicorn, every worker process counts into files of prometheus_client's
multiprocess mode (PROMETHEUS_MULTIPROC_DIR, prepared by gunicorn.conf.py), and a scrape,
whichever worker answers it, adds them all up; a process without that directory (`flask run`,
tests) counts in memory.
"""

import hmac
import os
import re
import time

from flask import Flask, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .blueprint import public_view
from .errors import problem, too_many
from .holding import held
from .throttles import Throttled

CONVERTER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
# A request no route matched may name any method: as a label value it is one of these or
# "other", so no client can add series without end (server/refusals.py labels alike).
METHODS = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"})
UNMATCHED = "unmatched"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    """One app's metrics, in a registry of its own (several apps may live in one process)."""

    def __init__(self, token: str):
        self.token = token.encode()
        self.registry = CollectorRegistry()
        common = {"registry": self.registry}
        self.requests = Counter(
            "todo_http_requests", "Requests answered", ["method", "route", "status"], **common
        )
        self.latency = Histogram(
            "todo_http_request_duration_seconds",
            "Time to answer a request",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            **common,
        )
        self.in_flight = Gauge(
            "todo_http_requests_in_flight",
            "Requests being answered",
            multiprocess_mode="livesum",
            **common,
        )
        self.pool = Gauge(
            "todo_db_pool_connections",
            "Database connections checked out of the pool (in_use), and beyond its size (overflow)",
            ["state"],
            multiprocess_mode="livesum",
            **common,
        )
        self.throttled = Counter(
            "todo_throttled_attempts",
            "Attempts refused by a throttle (429), by the setting that holds its limit",
            ["limit"],
            **common,
        )

    def scrape(self) -> bytes:
        if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)


def route_of(rule) -> str:
    """`/api/<user_id:user_id>/tasks/<uuid:task_id>` -> `/api/{user_id}/tasks/{task_id}`."""
    return CONVERTER.sub(r"{\1}", rule.rule) if rule is not None else UNMATCHED


def watch_pool(engine: Engine, metrics: Metrics) -> None:
    in_use, overflow = metrics.pool.labels("in_use"), metrics.pool.labels("overflow")

    @event.listens_for(engine, "checkout")
    def checked_out(*_):
        in_use.inc()
        overflow.set(max(engine.pool.overflow(), 0) if hasattr(engine.pool, "overflow") else 0)

    @event.listens_for(engine, "checkin")
    def checked_in(*_):
        in_use.dec()


def init_app(app: Flask, engine: Engine) -> None:
    """After the error handlers: it counts throttled attempts on their way to a 429."""
    token = app.config["METRICS_TOKEN"]
    if not token:
        return
    metrics = app.extensions["metrics"] = Metrics(token)
    watch_pool(engine, metrics)

    @app.before_request
    def start():
        g.metrics_started = time.perf_counter()
        metrics.in_flight.inc()

    @app.after_request
    def count(response):
        started = g.pop("metrics_started", None)
        if started is None:  # answered by a hook that ran before `start`
            return response
        if held(request._get_current_object()):  # counted once, by the run that answers it
            metrics.in_flight.dec()
            return response
        method, route = request.method, route_of(request.url_rule)
        if route == UNMATCHED and method not in METHODS:
            method = "other"
        metrics.requests.labels(method, route, str(response.status_code)).inc()
        metrics.latency.labels(method, route).observe(time.perf_counter() - started)
        metrics.in_flight.dec()
        return response

    def count_throttled(error: Throttled):
        metrics.throttled.labels(error.setting).inc()
        return too_many(error)

    app.register_error_handler(Throttled, count_throttled)

    @app.route("/metrics", methods=["GET"])
    @public_view  # it has a token of its own
    def scrape():
        scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(sent.encode(), metrics.token):
            return problem(401, "The metrics token is required.", {"WWW-Authenticate": "Bearer"})
        # As the content type, whole: as a mimetype, Flask would add a second charset.
        return app.response_class(metrics.scrape(), content_type=CONTENT_TYPE_LATEST)
