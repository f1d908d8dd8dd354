"""The guides of docs/, served beside the interactive docs (/docs links to them where the
document mentions a topic): each page as the Markdown it is written in, so they work offline
and say exactly what the repository's pages say."""

from pathlib import Path

from flask import Blueprint, Flask, current_app

from .blueprint import public_view
from .errors import problem

GUIDES = Path(__file__).resolve().parent.parent / "docs"
guides = Blueprint("guides", __name__, url_prefix="/docs/guides")


@guides.route("/<name>.md", methods=["GET"])
@public_view
def guide(name: str):
    """One guide, by its file name; 404 for any other name."""
    pages = {page.stem: page for page in GUIDES.glob("*.md")}
    if name not in pages:
        return problem(404, f"No such guide: {name}.md (the README lists them all).")
    text = pages[name].read_text()
    return current_app.response_class(text, mimetype="text/markdown")


def init_app(app: Flask) -> None:
    app.register_blueprint(guides)
