"""Per-user request budgets: every authenticated request spends one unit of its caller's budget
for its route (`default`, or a named one: `feed`, `batch`, `stream`), a fixed number per fixed
window (RATELIMIT_BUDGET…: "3000 per 15 minutes"), the windows aligned on the clock so every
process agrees when one ends. Answers carry the IETF RateLimit-Policy and RateLimit fields
(draft-ietf-httpapi-ratelimit-headers: `"default";q=3000;w=900` and `"default";r=2999;t=512`);
a request past the budget is 429 with Retry-After, before its route runs.

The counts are shared by every worker and host through the store the login throttles use
(RATELIMIT_STORAGE_URI: Redis; memory:// counts per process), and fail over to memory as
they do (todo/throttles.py). A process does not ask the store for every request: it reserves
a slice of its caller's budget at once (INCRBY n: up to RATELIMIT_BUDGET_SLICE, and never
more than an eighth of what is left, so slices shrink as a budget runs out), and spends it
from memory; a request costs a dictionary lookup and a lock, and one round trip per slice.
Units reserved by a process and not spent by the window's end are lost to that window: a
caller spread over many processes may be refused up to a few slices early, never served
past the budget. RateLimit's `r` is what the store had left at the last reservation plus
this process's unspent slice.

The token check spends (`spend_budget`), with the lookups it made already: the budgets cost
a task read ~25,000 instructions of its ~1.19 million, most of them the two header fields
(bench/RESULTS.md). Knows no feature: the factory names the routes that spend a named
budget."""

import math
import threading
import time
from dataclasses import dataclass

from flask import Flask, Request
from limits import parse

from .throttles import Throttles

DEFAULT = "default"
# Each budget and the setting that holds it.
SETTINGS = {
    DEFAULT: "RATELIMIT_BUDGET",
    "feed": "RATELIMIT_BUDGET_FEED",
    "batch": "RATELIMIT_BUDGET_BATCH",
    "stream": "RATELIMIT_BUDGET_STREAM",
}
REMEMBERED_AT_MOST = 20_000  # callers' slices a process keeps; past this, old windows go


class OverBudget(Exception):
    """A request past its caller's budget: `retry_after` seconds until the window ends."""

    def __init__(self, budget: "Budget", retry_after: int):
        self.retry_after = retry_after
        super().__init__(
            f"Over the {budget.name!r} request budget of {budget.quota} requests per "
            f"{budget.window} seconds; try again in {retry_after} seconds."
        )


@dataclass(frozen=True)
class Budget:
    """A named budget: `quota` requests per `window` seconds, per user."""

    name: str
    quota: int
    window: int  # seconds
    policy: tuple = ()  # its RateLimit-Policy field, written once
    remaining: str = ""  # the start of its RateLimit field, up to the units left

    def __post_init__(self):
        policy = f'"{self.name}";q={self.quota};w={self.window}'
        object.__setattr__(self, "policy", ("RateLimit-Policy", policy))
        object.__setattr__(self, "remaining", f'"{self.name}";r=')


@dataclass
class Slice:
    """A caller's reservation in one window: units left to spend here, and the store's
    count at the last reservation (every process's units)."""

    window: int
    left: int = 0
    reserved: int = 0


class Budgets:
    """One app's budgets, the slices this process holds, and where the counts live."""

    def __init__(self, config: dict, throttles: Throttles, routes: dict[str, str], unspent):
        self.enabled = config["RATELIMIT_ENABLED"]
        self.budgets = {}
        for name, setting in SETTINGS.items():
            limit = parse(config[setting])
            self.budgets[name] = Budget(name, limit.amount, limit.get_expiry())
        self.routes = {endpoint: self.budgets[name] for endpoint, name in routes.items()}
        self.default = self.budgets[DEFAULT]
        self.largest_slice = config["RATELIMIT_BUDGET_SLICE"]
        self.throttles = throttles
        self.unspent = unspent
        self.slices: dict[tuple[str, str], Slice] = {}
        self.lock = threading.Lock()

    def spend(self, budget: Budget, caller: str) -> tuple[int, int]:
        """Spend one unit of the caller's budget: (units left, seconds until the window
        ends); OverBudget if none is."""
        now = time.time()
        window = int(now // budget.window)
        reset = max(1, math.ceil((window + 1) * budget.window - now))
        key = (budget.name, caller)
        with self.lock:
            held = self.slices.get(key)
            if held is None or held.window != window:
                held = self.slices[key] = Slice(window)
                if len(self.slices) > REMEMBERED_AT_MOST:
                    self.forget_old(now)
            if held.left == 0 and held.reserved < budget.quota:
                self.reserve(budget, caller, held)
            if held.left == 0:
                raise OverBudget(budget, reset)
            held.left -= 1
            return budget.quota - held.reserved + held.left, reset

    def left(self, budget: Budget, caller: str) -> tuple[int, int]:
        """What `spend` would say, without spending: (units left, seconds until the window
        ends)."""
        now = time.time()
        window = int(now // budget.window)
        reset = max(1, math.ceil((window + 1) * budget.window - now))
        with self.lock:
            held = self.slices.get((budget.name, caller))
            if held is None or held.window != window:
                return budget.quota, reset
            return budget.quota - held.reserved + held.left, reset

    def reserve(self, budget: Budget, caller: str, held: Slice) -> None:
        """Take a slice of what is left of the budget from the store (one INCRBY)."""
        size = max(1, min(self.largest_slice, (budget.quota - held.reserved) // 8))
        name = f"{self.throttles.prefix}/budget/{budget.name}/{caller}/{held.window}"
        try:
            total = self.throttles.storage().incr(name, budget.window, amount=size)
        except Exception as error:  # the store failed or stalled: count in memory for now
            total = self.throttles.fail_over(error).incr(name, budget.window, amount=size)
        held.left = max(0, min(size, budget.quota - (total - size)))
        held.reserved = min(total, budget.quota)

    def forget_old(self, now: float) -> None:
        for key in [
            key
            for key, held in self.slices.items()
            if held.window != int(now // self.budgets[key[0]].window)
        ]:
            del self.slices[key]


def spend_budget(app: Flask, context, this: Request, endpoint: str) -> None:
    """Spend a unit of the caller's budget for this route, or refuse the request (429): for
    the token check (todo/accounts/routes.py), once it has the caller, with the app, `g`,
    the request and its endpoint it already looked up (each proxy or property lookup
    costs). The budget's fields join the headers every answer gets (`g.labels`,
    todo/requests.py)."""
    budgets: Budgets | None = app.extensions.get("budgets")
    if budgets is None:
        return
    budget = budgets.routes.get(endpoint, budgets.default)
    # A held poll run again spent its unit when it first ran: one request, one unit.
    count = budgets.left if budgets.unspent(this) else budgets.spend
    try:
        left, reset = count(budget, context.user_id)
    except OverBudget as error:
        left, reset = 0, error.retry_after
        raise
    finally:
        context.labels.extend((budget.policy, ("RateLimit", f"{budget.remaining}{left};t={reset}")))


def init_app(app: Flask, routes: dict[str, str], unspent=lambda request: False) -> None:
    """Budgets for every authenticated route; `routes`: the endpoints that spend a named
    budget (by name), every other spends `default`; `unspent(request)`: whether this run of
    a request spends nothing (a waiting poll run again after a wake-up: one request, one
    unit)."""
    budgets = Budgets(app.config, app.extensions["throttles"], routes, unspent)
    if budgets.enabled:
        app.extensions["budgets"] = budgets
