"""One JSON error shape for REST (RFC 9457 problem details) and one ack error shape for Socket.IO.

REST errors look like::

    {"type": "validation-error", "title": "Unprocessable Entity", "status": 422,
     "detail": "The request body or parameters are invalid.",
     "errors": {"body": ["Longer than maximum length 10000."]}}

``type`` is a short, stable, documented slug (docs/api.md lists them); ``errors`` appears
only on validation errors and maps each field to its messages.
"""

from __future__ import annotations

import http
import logging
import math

import marshmallow as ma
import redis
from apispec import BasePlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from flask import Flask, jsonify
from flask_smorest import Api, Blueprint
from flask_smorest.spec import prepare_response
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed

from core.request_parsing import ProblemArgumentsParser, init_request_parsing

log = logging.getLogger(__name__)

PROBLEM_MIMETYPE = "application/problem+json"

_DEFAULT_TYPES = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "payload-too-large",
    414: "uri-too-long",
    415: "unsupported-media-type",
    422: "validation-error",
    429: "rate-limited",
    500: "internal-error",
    503: "database-busy",
}

#: SQLSTATEs for "the database was busy": serialization failure, deadlock broken, lock wait timed out.
_BUSY_SQLSTATES = {"40001", "40P01", "55P03"}
#: What a client waits before retrying after ``database-busy``.
BUSY_RETRY_AFTER = 1

#: Redis (message queue, presence, shared rate limits) could not be reached: the connection was
#: refused or lost, timed out, or the pool ran out of connections. Nothing the client sent was
#: wrong; the same request works once Redis is back. REST answers 503 ``service-unavailable``,
#: Socket.IO acks ``unavailable``, both saying when to retry.
REDIS_UNAVAILABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
#: What a client waits before retrying after ``service-unavailable`` / ``unavailable``.
UNAVAILABLE_RETRY_AFTER = 5
#: Seconds to wait before retrying when this process is overloaded (admission limit or pool exhausted).
OVERLOAD_RETRY_AFTER = 2


def database_busy(error: OperationalError) -> bool:
    """Whether a database error only means "busy": a lock wait ran out (``DATABASE_LOCK_TIMEOUT_MS``)
    or a deadlock was broken. The request was fine and nothing was stored; it may be retried."""
    return getattr(error.orig, "sqlstate", None) in _BUSY_SQLSTATES or "database is locked" in str(error.orig)


class ApiError(HTTPException):
    """An error a service raises on purpose: a status, a type slug and a human detail."""

    def __init__(self, status: int, detail: str, *, type_: str | None = None, errors: dict | None = None,
                 extensions: dict | None = None):
        super().__init__(description=detail)
        self.code = status
        self.type_ = type_ or _DEFAULT_TYPES.get(status, "error")
        self.errors = errors
        self.extensions = extensions  # more members of the problem document (RFC 9457 extensions)


class TooSoon(ApiError):
    """A 429 that says when to retry: ``Retry-After`` on REST, ``retry_after`` in Socket.IO acks."""

    def __init__(self, detail: str, type_: str, retry_after: float):
        super().__init__(429, detail, type_=type_)
        self.retry_after = max(1, math.ceil(retry_after))
        self.data = {"headers": {"Retry-After": str(self.retry_after)}}


def not_found(what: str = "resource") -> ApiError:
    return ApiError(404, f"The {what} does not exist or is not visible to you.")


def forbidden(detail: str, type_: str = "forbidden") -> ApiError:
    return ApiError(403, detail, type_=type_)


def conflict(detail: str, type_: str = "conflict") -> ApiError:
    return ApiError(409, detail, type_=type_)


def problem(status: int, detail: str, *, type_: str | None = None, errors: dict | None = None, headers=None,
            extensions: dict | None = None):
    """Build a problem-details response; ``extensions`` adds members (say, what an import stored)."""
    from werkzeug.http import HTTP_STATUS_CODES

    body = {
        "type": type_ or _DEFAULT_TYPES.get(status, "error"),
        "title": HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    body.update(extensions or {})
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_MIMETYPE
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _detail_of(error: HTTPException) -> str:
    data = getattr(error, "data", None) or {}
    if "message" in data:
        return str(data["message"])
    if error.code == 422:
        return "The request body or parameters are invalid."
    if error.code == 400 and "messages" in data:
        return "The request could not be parsed."
    return error.description or error.name


def _field_errors(error: HTTPException) -> dict | None:
    if isinstance(error, ApiError):
        return error.errors
    data = getattr(error, "data", None) or {}
    messages = data.get("errors") or data.get("messages")
    if not messages:
        return None
    # webargs nests by location ({"json": {...}, "query": {...}}); flatten one level.
    flat: dict = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            flat.update(fields)
        else:
            flat[location] = fields
    return flat


class ApiBlueprint(Blueprint):
    """flask-smorest's Blueprint, parsing query strings with each schema's own ``unknown``
    (``StrictSchema``: raise), so a misspelt query parameter is a 422 just as in a body,
    instead of webargs' default of silently dropping it; see ``ProblemArgumentsParser``."""

    ARGUMENTS_PARSER = ProblemArgumentsParser(unknown=None)


class ProblemSchema(ma.Schema):
    """The problem-details body of every error (documentation only: ``problem`` builds it)."""

    type = ma.fields.String(required=True, metadata={"description": "A stable slug (docs/api.md lists them)."})
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String(required=True)
    errors = ma.fields.Dict(metadata={"description": "Validation errors: field -> messages."})


class SchemaRulesPlugin(BasePlugin):
    """Rules across a schema's fields, which no one field's keywords can state (say, a ``oneOf``
    saying which of several fields is required), from the marshmallow schema's ``Meta.openapi_rules``
    into its component of the OpenAPI document."""

    def schema_helper(self, name, definition, **kwargs):
        schema = kwargs.get("schema")
        if schema is None:
            return None
        rules = getattr(getattr(resolve_schema_cls(schema), "Meta", None), "openapi_rules", None)
        return dict(rules) if rules else None


class PatchBodyPlugin(BasePlugin):
    """A ``PATCH`` body must change something (``core.request_parsing``: ``{}`` is a 422), so every
    ``PATCH`` operation's JSON body is documented with ``minProperties: 1``, around the schema it
    refers to (a schema may serve other operations, where ``{}`` is taken)."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        body = (operations or {}).get("patch", {}).get("requestBody", {})
        for media_type in body.get("content", {}).values():
            if "schema" in media_type:
                media_type["schema"] = {"allOf": [media_type["schema"]], "minProperties": 1}


class ProblemApi(Api):
    """flask-smorest's Api, with every HTTP error rendered (and documented) as problem details,
    and rules beyond the fields' own documented (``SchemaRulesPlugin``, ``PatchBodyPlugin``)."""

    ERROR_SCHEMA = ProblemSchema

    def __init__(self, app=None, *, spec_kwargs=None, **kwargs):
        spec_kwargs = dict(spec_kwargs or {})
        spec_kwargs["extra_plugins"] = [*spec_kwargs.get("extra_plugins", ()), SchemaRulesPlugin(), PatchBodyPlugin()]
        super().__init__(app, spec_kwargs=spec_kwargs, **kwargs)

    def _register_responses(self):
        """The error responses every operation refers to, as ``application/problem+json``."""
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            content_type = PROBLEM_MIMETYPE if status >= 400 else self.DEFAULT_RESPONSE_CONTENT_TYPE
            prepare_response(response, self.spec, content_type)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_MIMETYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)

    def handle_http_exception(self, error: HTTPException):
        headers = dict(getattr(error, "data", None) or {}).get("headers") or {}
        if isinstance(error, InternalServerError):
            return problem(500, "An unexpected error occurred.")
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            headers = {**headers, "Allow": ", ".join(sorted(error.valid_methods))}
        type_ = getattr(error, "type_", None)
        return problem(error.code, _detail_of(error), type_=type_, errors=_field_errors(error), headers=headers,
                       extensions=getattr(error, "extensions", None))


def rate_limited_response(error: HTTPException):
    """A 429 problem that keeps the limiter's ``Retry-After`` and ``X-RateLimit-*`` headers."""
    response = problem(429, f"Too many requests: the limit is {error.description}. Retry later.")
    limiter_response = error.get_response()
    for name, value in limiter_response.headers.items():
        if name == "Retry-After" or name.startswith("X-RateLimit-"):
            response.headers[name] = value
    return response


def register_error_handlers(app: Flask) -> None:
    """Errors the Api does not route: rate limits, and anything unexpected (never a stack trace).
    Also the request rules of ``core.request_parsing`` (JSON depth, URL length), app-wide."""

    init_request_parsing(app)
    app.register_error_handler(429, rate_limited_response)

    @app.errorhandler(IntegrityError)
    def conflicting_write(error):
        """A write the database refused because stored data changed meanwhile (a concurrent
        duplicate, a row deleted under the request): a 409 to retry, never a 500."""
        from core.extensions import db

        db.session.rollback()
        log.warning("integrity error answered with 409: %s", error.orig)
        return problem(409, "The request conflicts with data stored meanwhile; reload and retry.")

    @app.errorhandler(OperationalError)
    def database_error(error):
        """Busy (a lock wait ran out, a deadlock was broken): a 503 to retry; anything else is a bug."""
        from core.extensions import db

        db.session.rollback()
        if not database_busy(error):
            return unexpected(error)
        log.warning("database busy, answered with 503: %s", error.orig)
        return problem(503, "The database is busy; retry in a moment.", headers={"Retry-After": str(BUSY_RETRY_AFTER)})

    @app.errorhandler(PoolTimeout)
    def pool_exhausted(error):
        """No database connection came free within ``DATABASE_POOL_TIMEOUT_MS``: the process is
        overloaded. Nothing was done; a 503 with Retry-After, early, rather than a late 500."""
        log.warning("database pool exhausted, answered with 503: %s", error)
        return problem(503, "The server is busy; retry in a moment.", type_="overloaded",
                       headers={"Retry-After": str(OVERLOAD_RETRY_AFTER)})

    @app.errorhandler(redis.exceptions.ConnectionError)
    @app.errorhandler(redis.exceptions.TimeoutError)
    def redis_unreachable(error):
        """Redis could not be reached (``REDIS_UNAVAILABLE``): a 503 to retry, never a 500."""
        from core.extensions import db

        db.session.rollback()
        log.warning("Redis unreachable, answered with 503: %s", error)
        return problem(503, "A service the platform needs is unreachable for a moment; retry shortly.",
                       type_="service-unavailable", headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER)})

    @app.errorhandler(Exception)
    def unexpected(error):
        if isinstance(error, HTTPException):
            return app.handle_http_exception(error)
        log.exception("unhandled error")
        return problem(500, "An unexpected error occurred.")


def validation_messages(error: ma.ValidationError) -> dict:
    """Marshmallow errors as a flat field -> messages mapping (used by Socket.IO acks too)."""
    messages = error.messages
    return messages if isinstance(messages, dict) else {"_schema": messages}


def ack_error(code: str, message: str, *, errors: dict | None = None, retry_after: float | None = None) -> dict:
    """The Socket.IO acknowledgement error shape: ``{"ok": false, "error": {...}}``, with
    ``retry_after`` (seconds) when resending later will work."""
    body = {"code": code, "message": message}
    if errors:
        body["errors"] = errors
    if retry_after is not None:
        body["retry_after"] = retry_after
    return {"ok": False, "error": body}
