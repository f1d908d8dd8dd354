"""The package's layering, read from the imports the code actually makes (ast): shared modules
know no feature; inside a feature, routes -> store -> models; only the factory imports routes;
nothing below a routes module reads the request; the stores import no schema (an HTTP shape);
the pure rules import nothing of the app but other pure rules; no import cycle; no module
past 400 lines."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "todo"
FEATURES = (
    "todo.accounts",
    "todo.tasks",
    "todo.sync",
    "todo.completions",
    "todo.lists",
    "todo.labels",
    "todo.sharing",
    "todo.live",
    "todo.webhooks",
    "todo.portability",
)
# Feature modules that answer requests: the only ones that may read flask's request or g.
ROUTES = {f"{feature}.routes" for feature in FEATURES}
# The modules that run a feature's statements: they take the caller explicitly, raise domain
# errors and know no HTTP (the task store is split by job).
STORES = {
    "todo.accounts": ("store",),
    "todo.tasks": (
        *("rows", "reads", "creates", "writes", "trash", "placement", "history"),
        *("changes", "structure", "positions", "listing", "assignees"),
    ),
    "todo.sync": ("store", "shared", "batch"),
    "todo.completions": ("store",),
    "todo.lists": ("store", "trash"),
    "todo.labels": ("store",),
    "todo.sharing": ("access", "members", "invitations", "endings", "events", "shared_lists"),
    "todo.live": ("tickets",),
    "todo.webhooks": ("store", "claims", "feed"),
    "todo.portability": ("store", "imports", "bulk", "subscriptions"),
}
STORE_MODULES = {f"{feature}.{name}" for feature, names in STORES.items() for name in names}
# Rules with no database and no HTTP: what a due date, a reminder, a recurrence, an order key
# or a label's name is. They import no other module of the app's, but each other.
PURE_RULES = {
    "todo.timestamps",
    "todo.tasks.due",
    "todo.tasks.reminders",
    "todo.tasks.recurrence",
    "todo.tasks.occurrences",
    "todo.tasks.revision",
    "todo.tasks.ordering",
    "todo.labels.names",
}
MOST_LINES = 400


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every module `path` imports, as absolute names (`from x import y` counts x and x.y)."""
    name, found = module_name(path), set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def names_from_flask(path: Path) -> set[str]:
    return {
        alias.name
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and node.module == "flask"
        for alias in node.names
    }


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}
IMPORTS = {name: {i for i in imports(path) if i in MODULES} for name, path in MODULES.items()}


def feature_of(name: str) -> str | None:
    return next((f for f in FEATURES if name == f or name.startswith(f + ".")), None)


@pytest.mark.parametrize("name", sorted(n for n in MODULES if feature_of(n) is None))
def test_shared_modules_import_no_feature(name):
    if name in ("todo", "todo.cli"):
        return  # the factory wires the features in; the operator's commands act on them
    assert not {i for i in IMPORTS[name] if feature_of(i)}, name


def test_only_the_factory_imports_routes():
    importers = {name for name, found in IMPORTS.items() if found & ROUTES}
    assert importers == {"todo"}


@pytest.mark.parametrize("name", sorted(n for n in MODULES if feature_of(n) and n not in ROUTES))
def test_nothing_below_the_routes_reads_the_request(name):
    assert not names_from_flask(MODULES[name]) & {"g", "request", "session"}, name


@pytest.mark.parametrize("name", sorted(STORE_MODULES))
def test_stores_know_no_http_nor_schemas(name):
    assert not names_from_flask(MODULES[name])
    assert not any(i.startswith("flask_smorest") for i in imports(MODULES[name]))
    assert not {i for i in IMPORTS[name] if i.endswith("schemas")}, name


@pytest.mark.parametrize("feature", FEATURES)
def test_models_know_no_store_and_stores_no_routes(feature):
    stores = {f"{feature}.{name}" for name in STORES[feature]}
    models = IMPORTS.get(f"{feature}.models", set())  # sync has no tables of its own
    assert not models & (stores | ROUTES), feature
    for store in stores:
        assert not IMPORTS[store] & ROUTES, store


@pytest.mark.parametrize("name", sorted(PURE_RULES))
def test_pure_rules_import_only_pure_rules(name):
    packages = {"todo", *FEATURES}
    assert IMPORTS[name] - packages <= PURE_RULES, name


def test_every_store_module_is_named_here():
    """A new module that runs statements is listed with the stores (and so kept free of HTTP)."""
    runs_statements = {
        name
        for name, path in MODULES.items()
        if feature_of(name) and "db.session" in path.read_text() and name not in ROUTES
    }
    assert runs_statements <= STORE_MODULES | {
        "todo.tasks.changes",
        "todo.tasks.structure",
        "todo.tasks.positions",
        "todo.tasks.listing",
    }


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_is_longer_than_it_can_be_read(name):
    lines = MODULES[name].read_text().count("\n")
    assert lines <= MOST_LINES, f"{name}: {lines} lines"


def test_no_module_imports_itself_round_a_cycle():
    def visit(name, path):
        if name in path:
            raise AssertionError(" -> ".join([*path[path.index(name) :], name]))
        for found in IMPORTS[name]:
            if found != name and not name.startswith(found + "."):  # a package's own parents
                visit(found, [*path, name])

    for name in MODULES:
        visit(name, [])
