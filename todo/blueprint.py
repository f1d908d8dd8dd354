"""The flask-smorest Blueprint every resource uses: a strict JSON body parser, documented
problems."""

from http import HTTPStatus

import flask_smorest
from flask import current_app
from webargs import core, flaskparser

NOT_JSON = "The request body must be JSON (Content-Type: application/json)."


class JSONParser(flaskparser.FlaskParser):
    """webargs' parser, with a clear answer for every body it cannot use: 415 for a body that
    is not JSON, 413 for one over the limit (also when sent chunked), 400 for JSON that does
    not decode (bad syntax, numbers too long, nesting too deep) and for repeated query
    parameters."""

    def _raw_load_json(self, req):
        if not flaskparser.is_json_request(req):
            if req.content_length or "chunked" in req.headers.get("Transfer-Encoding", ""):
                flaskparser.abort(415, message=NOT_JSON)
            return core.missing
        data = req.get_data(cache=True)
        if req.content_length is None and len(data) >= current_app.config["MAX_CONTENT_LENGTH"]:
            req.stream.read(1)  # a chunked body cut at the limit: werkzeug answers 413 if more
        try:
            return core.parse_json(data)
        except RecursionError:
            flaskparser.abort(400, message="The JSON body is nested too deeply.")
        except ValueError:  # bad syntax or encoding, or an integer too long to convert
            flaskparser.abort(400, message="The request body is not valid JSON.")

    def load_querystring(self, req, schema):
        repeated = sorted({key for key in req.args if len(req.args.getlist(key)) > 1})
        if repeated:
            flaskparser.abort(
                400,
                messages={"query": {key: ["Give this parameter once."] for key in repeated}},
            )
        return self._makeproxy(req.args, schema)


def header_parameter(name: str, description: str, **schema) -> dict:
    """An optional request header, as an OpenAPI parameter."""
    return {
        "in": "header",
        "name": name,
        "required": False,
        "schema": {"type": "string", **schema},
        "description": description,
    }


class Blueprint(flask_smorest.Blueprint):
    """Give `arguments` schema instances, not classes: webargs instantiates a class anew for
    every request it parses (~30 us)."""

    ARGUMENTS_PARSER = JSONParser()

    def problems(self, *statuses: int):
        """Document the error answers a view can give, beside the 422 flask-smorest adds."""

        def decorate(view):
            for status in statuses:
                view = self.alt_response(status, response=HTTPStatus(status).name)(view)
            return view

        return decorate
