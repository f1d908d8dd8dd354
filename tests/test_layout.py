"""The package's layering, read from the imports the code actually makes (ast): shared modules
know no feature; inside a feature, routes -> store -> models; only the factory imports routes;
nothing below a routes module reads the request; no import cycle."""

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
)
# Feature modules that answer requests: the only ones that may read flask's request or g.
ROUTES = {f"{feature}.routes" for feature in FEATURES}


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


@pytest.mark.parametrize("feature", FEATURES)
def test_stores_know_no_http_and_models_no_store(feature):
    assert not names_from_flask(MODULES[f"{feature}.store"])
    assert not any(i.startswith("flask_smorest") for i in imports(MODULES[f"{feature}.store"]))
    for lower, higher in (("models", "store"), ("models", "routes"), ("store", "routes")):
        if f"{feature}.{lower}" in IMPORTS:  # sync has no tables of its own
            assert f"{feature}.{higher}" not in IMPORTS[f"{feature}.{lower}"], (lower, higher)


def test_no_module_imports_itself_round_a_cycle():
    def visit(name, path):
        if name in path:
            raise AssertionError(" -> ".join([*path[path.index(name) :], name]))
        for found in IMPORTS[name]:
            if found != name and not name.startswith(found + "."):  # a package's own parents
                visit(found, [*path, name])

    for name in MODULES:
        visit(name, [])
