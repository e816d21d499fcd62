"""What the platform's ``flask`` commands share."""

from __future__ import annotations

import functools

import click
from flask.cli import with_appcontext
from sqlalchemy import inspect

from core.extensions import db


def with_schema(func):
    """``with_appcontext``, and a clear refusal on a database without the platform's tables
    (a fresh file or database where ``flask db upgrade`` has not run) instead of a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if not inspect(db.engine).has_table("accounts"):
            raise click.ClickException(
                "The database has no platform tables yet: run `flask --app app db upgrade` first.")
        return func(*args, **kwargs)

    return with_appcontext(wrapper)
