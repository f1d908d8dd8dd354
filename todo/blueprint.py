"""The flask-smorest Blueprint every resource uses: a safe JSON parser, documented problems."""

from http import HTTPStatus

import flask_smorest
from webargs import flaskparser


class JSONParser(flaskparser.FlaskParser):
    """webargs' parser, with a readable 400 for bodies that are not JSON or nest too deep
    to decode (which would otherwise be a RecursionError, a 500)."""

    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except RecursionError:
            flaskparser.abort(400, message="The JSON body is nested too deeply.")

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        flaskparser.abort(400, message="The request body is not valid JSON.")


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
    ARGUMENTS_PARSER = JSONParser()

    def problems(self, *statuses: int):
        """Document the error answers a view can give, beside the 422 flask-smorest adds."""

        def decorate(view):
            for status in statuses:
                view = self.alt_response(status, response=HTTPStatus(status).name)(view)
            return view

        return decorate
