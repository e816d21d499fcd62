"""Request and response schemas for spaces, threads, posts and reactions (REST and Socket.IO)."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import marshmallow as ma
from marshmallow import validate

from sqlalchemy import func, select

from community.models import ConversationKind, Reaction, SpaceRole, Visibility
from community.search_index import CONFIGS as SEARCH_CONFIGS
from core.extensions import db
from core.validation import BIDI_CONTROLS, Handle, PageArgs, SafeText, StrictBoolean, StrictSchema, page_schema
from purpose.models import PurposeKind

MAX_POST_LENGTH = 10_000
_SHORTCODE = re.compile(r"^:[a-z0-9_+-]{1,30}:$")
_EMOJI_CATEGORIES = {"So", "Sk", "Mn", "Me", "Cf"}
_EMOJI_MAX_CODE_POINTS = 10
#: Planes scanned for emoji characters: the BMP, the SMP (emoji, symbols, skin tones) and plane 14
#: (tags, variation selectors). The others hold only ideographs (Lo), private use (Co) or nothing.
_EMOJI_PLANES = (range(0x20000), range(0xE0000, 0xF0000))


def _class_range(first: int, last: int) -> str:
    # BMP code points as \uXXXX (read alike by ECMA-262 and Python); others as the character itself,
    # which ECMA-262 (unicode mode), Python and Rust all read as one code point.
    def one(code: int) -> str:
        return f"\\u{code:04x}" if code <= 0xFFFF else chr(code)

    return one(first) if first == last else f"{one(first)}-{one(last)}"


@cache
def emoji_pattern() -> str:
    """:class:`Emoji`'s rule as a ``pattern`` for the OpenAPI document: a ``:shortcode:``, or 1 to
    10 characters of the emoji categories (symbols, modifiers, combining and format marks), less
    what SafeText refuses (bidi controls) and what NFC would rewrite (a few legacy accents and
    musical symbols that decompose into several code points). Derived from the running Python's
    Unicode database, the one the server checks with."""
    ranges: list[list[int]] = []
    for code in (code for plane in _EMOJI_PLANES for code in plane):
        char = chr(code)
        if (unicodedata.category(char) not in _EMOJI_CATEGORIES or BIDI_CONTROLS.match(char)
                or char.isspace() or unicodedata.normalize("NFC", char) != char):
            continue
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    characters = "".join(_class_range(first, last) for first, last in ranges)
    return f"^(?:{_SHORTCODE.pattern[1:-1]}|[{characters}]{{1,{_EMOJI_MAX_CODE_POINTS}}})$"


class Emoji(SafeText):
    """A reaction: one emoji (up to 10 code points, e.g. with skin tone or ZWJ) or a ``:shortcode:``.
    The OpenAPI document states the rule as a ``pattern`` (:func:`emoji_pattern`)."""

    default_error_messages = {"emoji": "Must be an emoji or a :shortcode:."}

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {"pattern": emoji_pattern(),
                                       "description": "One emoji (up to 10 code points: skin tones, ZWJ sequences) "
                                                      "or a `:shortcode:`."})
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if _SHORTCODE.match(text):
            return text
        if len(text) > _EMOJI_MAX_CODE_POINTS or not all(unicodedata.category(c) in _EMOJI_CATEGORIES for c in text):
            raise self.make_error("emoji")
        return text


class AuthorOut(ma.Schema):
    id = ma.fields.Integer()
    handle = ma.fields.String()
    display_name = ma.fields.String()


class SpaceArgs(StrictSchema):
    name = SafeText(required=True, validate=validate.Length(max=120))
    slug = ma.fields.String(
        required=True, validate=validate.Regexp(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$", error="Lower-case letters, digits and -.")
    )
    description = SafeText(multiline=True, allow_blank=True, load_default="", validate=validate.Length(max=4000))
    visibility = ma.fields.Enum(Visibility, load_default=Visibility.public)
    search_config = ma.fields.String(load_default="english", validate=validate.OneOf(SEARCH_CONFIGS), metadata={
        "description": "How posts and threads here are searched: english (stemming, stop words) or simple "
                       "(words as written). PostgreSQL; embedded SQLite indexes every space the same way."})


class SpaceListArgs(PageArgs):
    kind = ma.fields.Enum(PurposeKind, load_default=None, metadata={"description": "Only spaces of life or societal purposes."})
    purpose_id = ma.fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**31 - 1))
    brand_id = ma.fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**31 - 1))


class SpaceOut(ma.Schema):
    id = ma.fields.Integer()
    purpose_id = ma.fields.Integer()
    name = ma.fields.String()
    slug = ma.fields.String()
    description = ma.fields.String()
    visibility = ma.fields.Enum(Visibility)
    search_config = ma.fields.String()
    created_at = ma.fields.DateTime()
    tags = ma.fields.Function(lambda space: list(space.purpose.tags or []) if space.purpose else [], metadata={
        "description": "The goals or causes of the space's purpose (spaces inherit their purpose's tags)."})
    purpose_kind = ma.fields.Function(lambda space: space.purpose.kind.value if space.purpose else None,
                                      metadata={"description": "life or societal."})


class MembershipOut(ma.Schema):
    space_id = ma.fields.Integer()
    account = ma.fields.Nested(AuthorOut)
    role = ma.fields.Enum(SpaceRole)
    joined_at = ma.fields.DateTime()


class MemberArgs(StrictSchema):
    role = ma.fields.Enum(SpaceRole, required=True)
    reason = SafeText(load_default="", allow_blank=True, validate=validate.Length(max=500),
                      metadata={"description": "Why, for the audit log (optional)."})


class ThreadArgs(StrictSchema):
    title = SafeText(required=True, validate=validate.Length(max=200))
    body = SafeText(required=True, multiline=True, validate=validate.Length(max=MAX_POST_LENGTH))


class ThreadOut(ma.Schema):
    id = ma.fields.Integer()
    space_id = ma.fields.Integer()
    title = ma.fields.String()
    author = ma.fields.Nested(AuthorOut)
    created_at = ma.fields.DateTime()
    last_activity_at = ma.fields.DateTime()
    locked = ma.fields.Boolean()
    pinned = ma.fields.Boolean()


class MemberThreadOut(ThreadOut):
    """A thread as one member sees it (listings, `GET /threads/{id}`): with how far they have read it."""

    read_post_id = ma.fields.Integer(allow_none=True, metadata={
        "description": "The highest post id you have read here (null: none yet); moved by "
                       "``POST /threads/{id}/read`` and by your own posts, never back."})
    unread = ma.fields.Integer(allow_none=True, metadata={
        "description": "Posts by others after your read position (not hidden, not deleted, not by accounts "
                       "you muted or blocked), when your level for the thread is tracking or watching; "
                       "null at normal and muted."})


class ReadThreadArgs(StrictSchema):
    post_id = ma.fields.Integer(load_default=None, strict=True, validate=validate.Range(min=1, max=2**31 - 1), metadata={
        "description": "Read up to this post of the thread (omitted: up to its latest post)."})


def _client_msg_id():
    return ma.fields.String(
        load_default=None, validate=validate.Regexp(r"^[A-Za-z0-9_.:-]{1,64}$", error="1-64 of A-Z a-z 0-9 _ . : -"),
        metadata={"description": "Idempotency key chosen by the sender: a resend with the same key returns the first post."},
    )


class PostArgs(StrictSchema):
    body = SafeText(
        required=True, multiline=True, validate=validate.Length(max=MAX_POST_LENGTH),
        metadata={"description": "Markdown source, stored as text; clients render it safely (never as raw HTML)."},
    )
    parent_id = ma.fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**31 - 1))
    client_msg_id = _client_msg_id()


class PostEditArgs(StrictSchema):
    body = SafeText(required=True, multiline=True, validate=validate.Length(max=MAX_POST_LENGTH))


class ReactionSummary(ma.Schema):
    emoji = ma.fields.String()
    count = ma.fields.Integer()
    mine = ma.fields.Boolean()


class PostOut(ma.Schema):
    id = ma.fields.Integer()
    space_id = ma.fields.Integer()
    thread_id = ma.fields.Integer()
    seq = ma.fields.Integer(metadata={"description": "Position in the space's gap-free post sequence."})
    author = ma.fields.Nested(AuthorOut)
    parent_id = ma.fields.Integer(allow_none=True)
    body = ma.fields.Method("visible_body", allow_none=True, metadata={"description": "null once deleted."})
    created_at = ma.fields.DateTime()
    edited_at = ma.fields.DateTime(allow_none=True)
    deleted = ma.fields.Boolean()
    hidden = ma.fields.Boolean(metadata={"description": "Hidden by the moderators: only staff and the author see it."})
    hidden_reason = ma.fields.String(allow_none=True)
    reactions = ma.fields.List(ma.fields.Nested(ReactionSummary), attribute="reaction_summary")

    def visible_body(self, post):
        return None if post.deleted else post.body


class ReactionArgs(StrictSchema):
    emoji = Emoji(required=True, validate=validate.Length(min=1, max=32))


class ReactionOut(ma.Schema):
    post_id = ma.fields.Integer()
    emoji = ma.fields.String()
    created_at = ma.fields.DateTime()


class ParticipantArgs(StrictSchema):
    """People named by ``@handle`` (without the @) or by account id, or both."""

    handles = ma.fields.List(Handle(), load_default=list, validate=validate.Length(max=50))
    account_ids = ma.fields.List(ma.fields.Integer(strict=True, validate=validate.Range(min=1, max=2**31 - 1)),
                                 load_default=list, validate=validate.Length(max=50))

    @ma.validates_schema
    def _someone(self, data, **_kwargs):
        if not data.get("handles") and not data.get("account_ids"):
            raise ma.ValidationError("Name at least one person in handles or account_ids.", "handles")


class ConversationArgs(ParticipantArgs):
    group = StrictBoolean(load_default=False, metadata={
        "description": "Start a group even with one other person (a one-to-one is otherwise reused)."})
    title = SafeText(load_default=None, validate=validate.Length(max=120), metadata={"description": "Groups only."})
    body = SafeText(load_default=None, multiline=True, validate=validate.Length(max=MAX_POST_LENGTH),
                    metadata={"description": "An optional first message."})
    client_msg_id = _client_msg_id()

    @ma.validates_schema
    def _title_for_groups(self, data, **_kwargs):
        if data.get("title") and not data.get("group") and len(data.get("handles", [])) + len(data.get("account_ids", [])) < 2:
            raise ma.ValidationError("Only a group conversation has a title.", "title")


class ReadArgs(StrictSchema):
    seq = ma.fields.Integer(load_default=None, strict=True, validate=validate.Range(min=0, max=2**31 - 1), metadata={
        "description": "Read up to this sequence number (omitted: everything so far)."})


class ConversationOut(ma.Schema):
    id = ma.fields.Integer(metadata={"description": "Also the conversation's space id: join it over Socket.IO with this."})
    kind = ma.fields.Enum(ConversationKind, metadata={"description": "pair (one-to-one, reused) or group."})
    title = ma.fields.Function(lambda c: c.space.name or None, allow_none=True)
    thread_id = ma.fields.Integer(metadata={"description": "Its one thread: post with the socket ``post`` event there."})
    participants = ma.fields.List(ma.fields.Nested(AuthorOut))
    created_by_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.DateTime()
    last_activity_at = ma.fields.DateTime()
    last_seq = ma.fields.Integer(metadata={"description": "The conversation's latest sequence number (``resume`` from yours)."})
    read_seq = ma.fields.Integer(metadata={"description": "Your read position."})
    unread_count = ma.fields.Integer(metadata={"description": "Messages by others after your read position."})


SpacePage = page_schema(SpaceOut, "SpacePage")
ConversationPage = page_schema(ConversationOut, "ConversationPage")
MembershipPage = page_schema(MembershipOut, "MembershipPage")
ThreadPage = page_schema(MemberThreadOut, "ThreadPage")
PostPage = page_schema(PostOut, "PostPage")


def reaction_summaries(post_ids: list[int], viewer_id: int) -> dict[int, list[dict]]:
    """Per post: ``[{"emoji", "count", "mine"}]`` in one query for a whole page."""
    rows = db.session.execute(
        select(
            Reaction.post_id, Reaction.emoji, func.count(), func.max(func.cast(Reaction.account_id == viewer_id, db.Integer))
        )
        .where(Reaction.post_id.in_(post_ids))
        .group_by(Reaction.post_id, Reaction.emoji)
        .order_by(Reaction.post_id, func.min(Reaction.id))
    )
    summaries: dict[int, list[dict]] = {pid: [] for pid in post_ids}
    for post_id, emoji, count, mine in rows:
        summaries[post_id].append({"emoji": emoji, "count": count, "mine": bool(mine)})
    return summaries
