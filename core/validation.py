"""Marshmallow fields and schemas shared by every package: safe text, handles, paging.

One set of schema classes validates REST bodies, Socket.IO payloads and Celery task
arguments, and generates the OpenAPI document.
"""

from __future__ import annotations

import re
import unicodedata

import marshmallow as ma
from flask import current_app, has_app_context
from marshmallow import validate

from core.config import INT_SETTINGS

# C0 controls other than tab, newline and carriage return; DEL; C1 controls.
_FORBIDDEN_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"[\r\n\t]")
# Unicode bidirectional controls: embeddings and overrides (U+202A-U+202E), isolates (U+2066-U+2069),
# marks (U+200E, U+200F, U+061C). In a name or title they reorder what is shown around it
# ("Trojan Source"): a display name could make a post seem to say something else.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
HANDLE_PATTERN = r"[a-z0-9_]{3,30}"
# The same rules as regular expressions for the OpenAPI document (``\uXXXX`` escapes read alike in
# ECMA-262 and Python), so clients and fuzzers know which strings are taken. Lone surrogates are
# left out of the pattern (regex engines without surrogate code points, such as Rust's, refuse a
# range naming them and then ignore the whole pattern); they are still refused (422).
_CONTROLS_CLASS = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f"
_SINGLE_LINE_CLASS = _CONTROLS_CLASS + r"\u0009\u000a\u000d\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"


def safe_text_pattern(*, multiline: bool, allow_blank: bool) -> str:
    """The ``pattern`` documenting :class:`SafeText`'s refusals: no forbidden character, and
    (unless blanks are allowed) at least one that is not white space, so not blank once trimmed."""
    forbidden = _CONTROLS_CLASS if multiline else _SINGLE_LINE_CLASS
    if allow_blank:
        return f"^[^{forbidden}]*$"
    return f"^[^{forbidden}]*[^{forbidden}\\s][^{forbidden}]*$"


class SafeText(ma.fields.String):
    """A string that PostgreSQL and every client can store and show.

    Refuses lone surrogates (which JSON allows but UTF-8 cannot encode), NUL and other
    control characters; normalises to NFC; strips surrounding white space. Single-line
    fields (``multiline=False``: names, titles, handles, tags) also refuse line breaks, tabs
    and Unicode bidirectional controls.
    """

    default_error_messages = {
        "surrogate": "Contains an unpaired surrogate code point.",
        "control": "Contains a control character.",
        "line_break": "Must be a single line.",
        "bidi": "Contains a Unicode bidirectional control character (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C).",
        "blank": "Must not be blank.",
    }

    def __init__(self, *, multiline: bool = False, allow_blank: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.multiline = multiline
        self.allow_blank = allow_blank
        if not any(isinstance(v, validate.Regexp) for v in self.validators) and "pattern" not in self.metadata:
            # Documented in the OpenAPI document; a field with its own Regexp documents that one.
            self.metadata = {**self.metadata, "pattern": safe_text_pattern(multiline=multiline, allow_blank=allow_blank)}

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise self.make_error("surrogate") from exc
        if _FORBIDDEN_CONTROLS.search(text):
            raise self.make_error("control")
        if not self.multiline and _LINE_BREAKS.search(text):
            raise self.make_error("line_break")
        if not self.multiline and BIDI_CONTROLS.search(text):
            raise self.make_error("bidi")
        text = unicodedata.normalize("NFC", text).strip()
        if not text and not self.allow_blank:
            raise self.make_error("blank")
        return text


class Handle(SafeText):
    """An ``@handle``: 3 to 30 of a-z, 0-9 and underscore, case-insensitive (stored lower-case)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", validate.Regexp(f"^{HANDLE_PATTERN}$", error="3-30 of a-z, 0-9 and _."))
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = value.lower()
        return super()._deserialize(value, attr, data, **kwargs)


def normalise_email(value: str) -> str:
    """Emails compare case-insensitively: NFC, stripped, lower-cased."""
    return unicodedata.normalize("NFC", value).strip().lower()


class EmailAddress(ma.fields.Email):
    """An email address, normalised so that lookups and uniqueness are case-insensitive."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", validate.Length(max=254))
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = normalise_email(value)
        return super()._deserialize(value, attr, data, **kwargs)


class Tags(ma.fields.List):
    """A short list of distinct lower-case tags such as ``fitness`` or ``ocean-cleanup``."""

    def __init__(self, **kwargs):
        tag = SafeText(validate=validate.Regexp(r"^[\w-]{1,40}$", error="1-40 letters, digits, _ or -."))
        kwargs.setdefault("validate", validate.Length(max=20))
        kwargs.setdefault("load_default", list)
        super().__init__(tag, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        tags = super()._deserialize(value, attr, data, **kwargs)
        return sorted({t.lower() for t in tags})


class StrictSchema(ma.Schema):
    """Unknown fields are an error, so typos in a client are seen, not silently ignored."""

    class Meta:
        unknown = ma.RAISE


class PageLimit(validate.Range):
    """1 to the app's ``PAGE_LIMIT_MAX``, read when a request is validated, not fixed at import.

    apispec documents any validator with ``min`` and ``max`` as ``minimum`` / ``maximum``, so
    the OpenAPI document, built in an app context (``create_app``), states the same bound;
    outside one ``max`` is the setting's default."""

    def __init__(self) -> None:
        super().__init__(min=1, max=INT_SETTINGS["PAGE_LIMIT_MAX"])

    @property
    def max(self):
        return current_app.config["PAGE_LIMIT_MAX"] if has_app_context() else self._default_max

    @max.setter
    def max(self, value) -> None:
        self._default_max = value


class PageArgs(StrictSchema):
    """Cursor pagination query arguments shared by every list endpoint."""

    limit = ma.fields.Integer(
        load_default=None,
        validate=PageLimit(),
        metadata={"description": "Page size, from 1 to `maximum` (the PAGE_LIMIT_MAX setting, 200 unless "
                                 "configured); omitted: the PAGE_LIMIT_DEFAULT setting (50 unless configured)."},
    )
    cursor = ma.fields.String(
        load_default=None,
        validate=validate.Length(max=512),
        metadata={"description": "Opaque cursor from the previous page's `next_cursor`."},
    )


class ListingArgs(PageArgs):
    """Page arguments of a filtered listing whose ranges (``RANGES``: pairs of low and high argument)
    must be in order: a low end above its high end is a 422 on the low end, not an empty page."""

    RANGES: tuple[tuple[str, str], ...] = ()

    @ma.validates_schema
    def _ranges_in_order(self, data, **_kwargs):
        for low, high in self.RANGES:
            if data.get(low) is not None and data.get(high) is not None and data[low] > data[high]:
                raise ma.ValidationError(f"Must not be greater than {high}.", low)


class Dumped(ma.fields.Nested):
    """Objects of a nested schema that arrive already dumped (plain JSON values, as ``core.listing``
    reads them): documented as the schema, passed through as they are."""

    def _serialize(self, nested_obj, attr, obj, **kwargs):
        return nested_obj


def page_schema(item_schema: type[ma.Schema], name: str, *, dumped: bool = False) -> type[ma.Schema]:
    """A page of ``item_schema`` objects with the cursor to the next page (None at the end); with
    ``dumped``, the items come already dumped (a ``core.listing`` page)."""
    items = (Dumped(item_schema, many=True, required=True) if dumped
             else ma.fields.List(ma.fields.Nested(item_schema), required=True))
    return ma.Schema.from_dict(
        {
            "items": items,
            "next_cursor": ma.fields.String(allow_none=True, required=True),
        },
        name=name,
    )


class StrictBoolean(ma.fields.Boolean):
    """JSON ``true`` or ``false`` and nothing else: marshmallow's Boolean also takes ``0``, ``1``,
    ``"yes"``, ``"on"`` and more, so ``{"objected": 0}`` would silently mean "no"."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value
