"""Wire shapes of notifications and levels (REST and the ``notification`` Socket.IO event)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from community.models import DigestFrequency, EmailLevel, NotificationLevel
from community.schemas import AuthorOut
from core.validation import PageArgs, StrictSchema, page_schema


class NotificationOut(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String(metadata={"description": "mention, reply, reaction, new_thread, watched_post, moderation, "
                                                     "or a kind another part registered."})
    actor = ma.fields.Nested(AuthorOut, allow_none=True, metadata={"description": "Who caused it (null for moderation)."})
    space_id = ma.fields.Integer(allow_none=True)
    thread_id = ma.fields.Integer(allow_none=True)
    post_id = ma.fields.Integer(allow_none=True)
    data = ma.fields.Dict(allow_none=True, metadata={
        "description": "Kind-specific: reaction: `actors` (last three ids), `emoji`; moderation: `action`, `reason`, `after`."})
    count = ma.fields.Integer(metadata={"description": "Reactions batched on this unread row; 1 otherwise."})
    created_at = ma.fields.DateTime()
    read_at = ma.fields.DateTime(allow_none=True)


NotificationPage = page_schema(NotificationOut, "NotificationPage")


class NotificationListArgs(PageArgs):
    unread = ma.fields.Boolean(load_default=False, metadata={"description": "Only unread notifications."})
    after = ma.fields.Integer(load_default=None, validate=validate.Range(min=0, max=2**31 - 1), metadata={
        "description": "Resume: only notifications with a greater id, oldest first (a reconnecting client "
                       "passes the last id it saw). Without it: newest first."})


class UnreadOut(ma.Schema):
    unread = ma.fields.Integer()


class MarkAllArgs(StrictSchema):
    up_to = ma.fields.Integer(load_default=None, strict=True, validate=validate.Range(min=1, max=2**31 - 1),
                              metadata={"description": "Only notifications with this id or lower (what the client has shown)."})


class MarkedOut(ma.Schema):
    marked = ma.fields.Integer()
    unread = ma.fields.Integer()


class LevelArgs(StrictSchema):
    level = ma.fields.Enum(NotificationLevel, required=True)


class LevelOut(ma.Schema):
    level = ma.fields.Enum(NotificationLevel)
    chosen = ma.fields.Boolean(metadata={"description": "False: the default (or the space's level, for a thread)."})


class EmailSettingsArgs(StrictSchema):
    email = ma.fields.Enum(EmailLevel, required=True, allow_none=True, metadata={
        "description": "none, mentions_replies or all; null: the default for your relationship style."})


class EmailSettingsOut(ma.Schema):
    email = ma.fields.Enum(EmailLevel, allow_none=True)
    effective = ma.fields.Enum(EmailLevel)


class UnsubscribeArgs(StrictSchema):
    token = ma.fields.String(required=True, validate=validate.Length(max=512))


class UnsubscribedOut(ma.Schema):
    email = ma.fields.Enum(EmailLevel, metadata={"description": "The e-mail setting now in effect."})
    unsubscribed = ma.fields.Boolean()


class DigestSettingsArgs(StrictSchema):
    digest = ma.fields.Enum(DigestFrequency, allow_none=True, metadata={
        "description": "none, daily or weekly (Mondays); null: the default for your relationship style. Omitted: unchanged."})
    timezone = ma.fields.String(allow_none=True, validate=validate.Length(min=1, max=64), metadata={
        "description": "An IANA time zone such as `Europe/Paris`; null: UTC. Omitted: unchanged."})
    hour = ma.fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=0, max=23), metadata={
        "description": "The local hour the digest goes out; null: the platform's default (8). Omitted: unchanged."})

    @ma.validates("timezone")
    def _zone(self, value, **_):
        from community.notifications.digest import valid_zone

        if value is not None and not valid_zone(value):
            raise ma.ValidationError("Not an IANA time zone (such as Europe/Paris).")


class DigestSettingsOut(ma.Schema):
    digest = ma.fields.Enum(DigestFrequency, allow_none=True)
    effective = ma.fields.Enum(DigestFrequency, metadata={"description": "The frequency in effect."})
    timezone = ma.fields.String(allow_none=True)
    hour = ma.fields.Integer(allow_none=True)
    effective_hour = ma.fields.Integer()
    last_digest_at = ma.fields.DateTime(allow_none=True)
