"""The application factory: configuration, extensions, blueprints, error handlers. Wiring only."""

from flask import Blueprint, Flask
from swagger_ui_bundle import swagger_ui_path
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Config, config_from_env

from . import (
    budgets,
    cli,
    cors,
    database_errors,
    extensions,
    guides,
    health,
    holding,
    metrics,
    schema,
    throttles,
)
from .access_log import register_access_log
from .accounts import passwords
from .accounts import routes as accounts
from .accounts.store import EmailTaken
from .accounts.tokens import TokenNotCurrent
from .accounts.verified_tokens import jwt
from .application import App
from .blueprint import UserIdConverter, public_view, user_id_schema
from .completions import routes as completions
from .database import ping_when_idle
from .errors import DomainProblem, register_error_handlers, register_problems
from .extensions import api, db, migrate
from .idempotency import InvalidKey, KeyReused
from .json_provider import OrjsonProvider
from .labels import routes as labels
from .labels.store import LabelNotFound, TooManyLabels
from .lists import routes as lists
from .lists.store import ListChanged, ListGone, ListIdConflict, ListNotFound, TooManyLists
from .live import routes as live
from .live.tickets import InvalidTicket
from .portability import jobs as import_jobs
from .portability import routes as portability
from .portability.items import TooManyTasks
from .portability.subscriptions import CalendarNotFound, SubscriptionNotFound, TooManySubscriptions
from .postgresql import (
    bound_waits,
    decode_names_in_c,
    quote_uuids_once,
    warn_without_statement_bound,
)
from .requests import register_request_id
from .sessions import NoSessions
from .sharing import routes as sharing
from .sharing.access import (
    MemberNotFound,
    NotSharedList,
    OwnerOnly,
    OwnListInvitation,
    ReadOnly,
)
from .sharing.invitations import InvitationNotFound, TooManyMembers
from .sharing.members import MembershipNotFound, TooManySharedLists
from .sync import routes as sync
from .sync.store import CursorExpired, InvalidCursor
from .tasks import routes as tasks
from .tasks.positions import OrderTooDense, StaleOrder
from .tasks.rows import IdConflict, TaskChanged, TaskGone, TaskNotFound
from .tasks.trash import ParentInTrash
from .webhooks import routes as webhooks
from .webhooks.sender import Refused
from .webhooks.store import EndpointNotFound, TooManyEndpoints

# The stores' domain errors, and how each is answered (its message the detail).
DOMAIN_PROBLEMS = {
    InvalidKey: DomainProblem(400),
    InvalidCursor: DomainProblem(400),
    TokenNotCurrent: DomainProblem(401),
    InvalidTicket: DomainProblem(401),
    TaskNotFound: DomainProblem(404),
    ListNotFound: DomainProblem(404),
    LabelNotFound: DomainProblem(404),
    EndpointNotFound: DomainProblem(404),
    EmailTaken: DomainProblem(409),
    KeyReused: DomainProblem(409),
    IdConflict: DomainProblem(409, "/problems/id-conflict"),
    ListIdConflict: DomainProblem(409, "/problems/id-conflict"),
    ListGone: DomainProblem(410),
    ParentInTrash: DomainProblem(409, "/problems/parent-in-trash"),
    TaskGone: DomainProblem(410),
    CursorExpired: DomainProblem(410, "/problems/cursor-expired"),
    TaskChanged: DomainProblem(412),
    ListChanged: DomainProblem(412),
    TooManyLists: DomainProblem(422, "/problems/too-many-lists"),
    TooManyLabels: DomainProblem(422, "/problems/too-many-labels"),
    TooManyEndpoints: DomainProblem(422, "/problems/too-many-webhooks"),
    Refused: DomainProblem(422, "/problems/url-refused"),
    TooManyTasks: DomainProblem(422, "/problems/too-many-tasks"),
    import_jobs.ImportJobNotFound: DomainProblem(404),
    import_jobs.QueueUnavailable: DomainProblem(503, "/problems/queue-unavailable"),
    import_jobs.TooManyImports: DomainProblem(429),
    TooManySubscriptions: DomainProblem(422, "/problems/too-many-subscriptions"),
    SubscriptionNotFound: DomainProblem(404),
    CalendarNotFound: DomainProblem(404),
    StaleOrder: DomainProblem(409, "/problems/stale-order"),
    OrderTooDense: DomainProblem(409, "/problems/order-too-dense"),
    MemberNotFound: DomainProblem(404),
    MembershipNotFound: DomainProblem(404),
    InvitationNotFound: DomainProblem(404),
    TooManyMembers: DomainProblem(422, "/problems/too-many-members"),
    TooManySharedLists: DomainProblem(422, "/problems/too-many-shared-lists"),
    OwnListInvitation: DomainProblem(422),
    ReadOnly: DomainProblem(403),
    OwnerOnly: DomainProblem(403),
    NotSharedList: DomainProblem(422),
}
# The routes that spend a request budget of their own (todo/budgets.py); every other
# authenticated route spends the default one.
# The stream is opened with a ticket (public, no token): each ticket, one per stream opened,
# spends the stream's budget.
BUDGETED_ROUTES = {
    "sync.list_changes": "feed",
    "sync.run_batch": "batch",
    "live.create_ticket": "stream",
}
# Routes that need no token besides the views marked public: the document, its page, and
# Swagger UI's files.
PUBLIC_ENDPOINTS = ("api-docs.openapi_json", "api-docs.openapi_swagger_ui", "docs_assets.static")


def create_app(config: Config | None = None) -> Flask:
    app = App(__name__)
    app.json = OrjsonProvider(app)
    app.session_interface = NoSessions()
    app.config.from_object(config or config_from_env())
    if app.config["TRUSTED_PROXIES"]:
        # The client's address is the last one our own proxies appended to X-Forwarded-For.
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    register_request_id(app)
    register_access_log(app)
    register_extensions(app)
    register_blueprints(app)
    budgets.init_app(app, BUDGETED_ROUTES, unspent=holding.rerun)
    register_error_handlers(app)
    database_errors.register(app)
    register_problems(app, DOMAIN_PROBLEMS)
    with app.app_context():
        metrics.init_app(app, db.engine)
    return app


def register_extensions(app: Flask) -> None:
    app.url_map.converters["user_id"] = UserIdConverter
    on_postgresql = app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    connect, statement = app.config["DB_CONNECT_TIMEOUT"], app.config["DB_STATEMENT_TIMEOUT"]
    if on_postgresql:
        bound_waits(app.config["SQLALCHEMY_ENGINE_OPTIONS"], connect, statement + connect)
        decode_names_in_c()
    db.init_app(app)
    if on_postgresql:
        with app.app_context():
            warn_without_statement_bound(db.engine, statement)
            quote_uuids_once(db.engine)
    if app.config["DB_POOL_PRE_PING"]:
        with app.app_context():
            ping_when_idle(db.engine, app.config["DB_PING_IDLE_SECONDS"])
    migrate.init_app(app, db)
    schema.init_app(app)
    jwt.init_app(app)
    passwords.init_app(app)
    throttles.init_app(app)
    import_jobs.init_app(app)
    api.init_app(app)
    api.register_converter(UserIdConverter, user_id_schema)
    # flask-smorest's pagination metadata, for its own pagination, which this API does not use.
    api.spec.components.schemas.pop("PaginationMetadata", None)
    cors.init_app(app, extensions.cors)


def register_blueprints(app: Flask) -> None:
    api.register_blueprint(accounts.blp)
    api.register_blueprint(tasks.blp)
    api.register_blueprint(sync.blp)
    api.register_blueprint(completions.blp)
    api.register_blueprint(lists.blp)
    api.register_blueprint(labels.blp)
    api.register_blueprint(sharing.blp)
    api.register_blueprint(live.blp)
    api.register_blueprint(webhooks.blp)
    api.register_blueprint(portability.blp)
    api.register_blueprint(portability.feeds)
    # The stream's caller comes from its ticket (checked against the URL's user), not a token.
    app.before_request_funcs.setdefault(live.blp.name, []).append(
        accounts.require_url_user_of_token
    )
    per_users = (tasks, sync, completions, lists, labels, sharing, webhooks, portability)
    for per_user in per_users:
        app.before_request_funcs.setdefault(per_user.blp.name, []).append(accounts.require_url_user)
    api.register_blueprint(health.blp)
    app.register_blueprint(cli.commands)
    guides.init_app(app)
    # Swagger UI's files come from the swagger-ui-bundle package: /docs works offline.
    app.register_blueprint(
        Blueprint("docs_assets", __name__, static_folder=swagger_ui_path, static_url_path=""),
        url_prefix="/docs/assets",
    )
    for endpoint in PUBLIC_ENDPOINTS:
        app.view_functions[endpoint] = public_view(app.view_functions[endpoint])
    # Every other route needs a valid token, unless its view says it is public.
    app.before_request(accounts.require_token)
