"""``flask import-stakeholders`` and ``flask import-touchpoints``: the streamed import from a file, with progress."""

from __future__ import annotations

import io
import sys

import click

from core.cli import with_schema
from purpose.imports import ImportReport, import_stakeholders, import_touchpoints


class _CountingReader(io.RawIOBase):
    """A binary file that counts the bytes read through it (for the progress bar)."""

    def __init__(self, raw):
        self.raw, self.count = raw, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.raw.readinto(buffer)
        self.count += n or 0
        return n


def _run_import(path: str, fmt: str | None, importer, **options) -> None:
    fmt = fmt or ("csv" if path.lower().endswith(".csv") else "jsonl")
    with open(path, "rb") as raw:
        size = raw.seek(0, io.SEEK_END)
        raw.seek(0)
        counting = _CountingReader(raw)
        stream = io.TextIOWrapper(io.BufferedReader(counting), encoding="utf-8", newline="")
        report, failure = ImportReport(), None
        with click.progressbar(length=size, label="Importing", file=sys.stderr) as bar:
            try:
                importer(stream, fmt, progress=lambda _r: bar.update(counting.count - bar.pos), report=report, **options)
            except UnicodeDecodeError:
                failure = "stopped: the file is not UTF-8 text from here on; the rows above were handled"
            bar.update(size - bar.pos)
    click.echo(f"accepted {report.accepted}, already stored {report.duplicates}, rejected {report.rejected}")
    for line, reason in report.errors:
        click.echo(f"line {line}: {reason}")
    if failure:
        raise click.ClickException(failure)


_FORMAT = click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default=None, help="Default: from the extension.")


@click.command("import-stakeholders")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--brand", "brand_id", type=int, required=True)
@click.option("--source", default="import", show_default=True, help="The system the rows come from (idempotency scope).")
@_FORMAT
@with_schema
def import_stakeholders_command(path, brand_id, source, fmt):
    """Import stakeholders from CSV or JSON Lines, streamed, idempotent by external_id."""
    _run_import(path, fmt, import_stakeholders, brand_id=brand_id, source=source)


@click.command("import-touchpoints")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--brand", "brand_id", type=int, required=True)
@click.option("--source", default="import", show_default=True)
@click.option("--stakeholder-source", default=None, help="Source of the referenced stakeholders (default: --source).")
@_FORMAT
@with_schema
def import_touchpoints_command(path, brand_id, source, stakeholder_source, fmt):
    """Import touchpoints (purchases, events, referrals, ...) from CSV or JSON Lines."""
    _run_import(path, fmt, import_touchpoints, brand_id=brand_id, source=source, stakeholder_source=stakeholder_source)
