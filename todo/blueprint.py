"""The flask-smorest Blueprint every resource uses: a safe JSON parser, documented problems."""

from http import HTTPStatus

import flask_smorest
from webargs import flaskparser


class JSONParser(flaskparser.FlaskParser):
    """webargs' parser, answering 400 (not 500) to JSON nested too deep to decode."""

    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except RecursionError:
            flaskparser.abort(400, messages={"json": ["The JSON body is nested too deeply."]})


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = JSONParser()

    def problems(self, *statuses: int):
        """Document the error answers a view can give, beside the 422 flask-smorest adds."""

        def decorate(view):
            for status in statuses:
                view = self.alt_response(status, response=HTTPStatus(status).name)(view)
            return view

        return decorate
