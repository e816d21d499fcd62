"""How request bodies and query strings are read, once for every endpoint (docs/api.md, "Errors").

- JSON is decoded with ``loads_json``: nesting beyond ``JSON_MAX_DEPTH`` is a 400
  ``json-too-deep`` (the plain decoder raises ``RecursionError``, a 500, at about 1,000 levels).
  ``DepthLimitedJSONProvider`` serves ``request.get_json``; ``ProblemArgumentsParser`` serves
  every flask-smorest ``@arguments`` body.
- A single-valued query parameter given twice is a 422 naming it, not "the first one wins".
- A ``PATCH`` body with no field (``{}``) is a 422: it would change nothing.
- A request target (path and query) longer than ``MAX_URL_LENGTH`` is a 414 problem, answered
  by the app: gunicorn.conf.py lifts gunicorn's own request-line limit, whose 414 is HTML.
"""

from __future__ import annotations

import json

import marshmallow as ma
from flask.json.provider import DefaultJSONProvider
from webargs import core as webargs_core
from webargs.flaskparser import FlaskParser, is_json_request
from flask import Flask, request
from werkzeug.exceptions import BadRequest, RequestURITooLarge

#: The deepest nesting of arrays and objects a JSON document may have (the top level counts as 1).
JSON_MAX_DEPTH = 32
#: The longest request target (path and query string, in bytes) the app serves.
MAX_URL_LENGTH = 8192


class JsonTooDeep(BadRequest):
    """A JSON document nested beyond ``JSON_MAX_DEPTH``: 400 ``json-too-deep`` on REST."""

    type_ = "json-too-deep"
    description = f"The JSON body is nested deeper than {JSON_MAX_DEPTH} levels."


def nested_deeper_than(value, limit: int) -> bool:
    """Whether arrays and objects in ``value`` nest deeper than ``limit`` (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _openings(text: str | bytes) -> int:
    """How many ``[`` and ``{`` the text holds: no document nests deeper than that (a cheap bound
    that spares the walk for nearly every document; brackets inside strings only raise it)."""
    return text.count("[" if isinstance(text, str) else b"[") + text.count("{" if isinstance(text, str) else b"{")


def loads_json(text: str | bytes, **kwargs):
    """``json.loads`` that refuses nesting beyond ``JSON_MAX_DEPTH`` with a 400 (``json-too-deep``),
    where the plain decoder would raise ``RecursionError`` (a 500) at about 1,000 levels."""
    try:
        value = json.loads(text, **kwargs)
    except RecursionError:
        raise JsonTooDeep() from None
    if isinstance(value, (dict, list)) and _openings(text) > JSON_MAX_DEPTH and nested_deeper_than(value, JSON_MAX_DEPTH):
        raise JsonTooDeep()
    return value


class DepthLimitedJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, decoding request bodies (``request.get_json``) with ``loads_json``."""

    def loads(self, s: str | bytes, **kwargs):
        return loads_json(s, **kwargs)


def _multiple_fields(schema: ma.Schema) -> set[str]:
    """The query names a schema takes more than once (list fields), by their name on the wire."""
    return {field.data_key or name for name, field in schema.load_fields.items()
            if isinstance(field, (ma.fields.List, ma.fields.Tuple))}


class ProblemArgumentsParser(FlaskParser):
    """webargs' Flask parser with the platform's request rules: JSON bodies decoded with
    ``loads_json`` (depth limit), and a single-valued query parameter given twice refused
    (422) instead of the first value silently winning."""

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return webargs_core.missing
        try:
            text = req.get_data(cache=True).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise json.JSONDecodeError(f"Bytes decoding error : {exc.reason}", doc=str(exc.object), pos=exc.start) from exc
        value = loads_json(text)
        if req.method == "PATCH" and value == {}:  # a change that changes nothing is a client's mistake
            raise ma.ValidationError({"_schema": ["Give at least one field to change."]})
        return value

    def load_querystring(self, req, schema):
        single = set(req.args) - _multiple_fields(schema)
        repeated = sorted(name for name in single if len(req.args.getlist(name)) > 1)
        if repeated:
            raise ma.ValidationError({name: ["Give this parameter once."] for name in repeated})
        return super().load_querystring(req, schema)


class UrlTooLong(RequestURITooLarge):
    type_ = "uri-too-long"
    description = f"The URL is longer than {MAX_URL_LENGTH} bytes; send long input in a request body."


def init_request_parsing(app: Flask) -> None:
    """Decode every JSON body with the depth limit, and refuse over-long URLs, for the whole app."""
    provider = DepthLimitedJSONProvider(app)
    provider.sort_keys = app.json.sort_keys
    app.json = provider

    @app.before_request
    def refuse_long_urls():
        target = request.environ.get("RAW_URI") or request.full_path
        if len(target) > MAX_URL_LENGTH:
            raise UrlTooLong()
