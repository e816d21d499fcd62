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
        "description": "Resume: the notifications a client that saw up to this id may have missed, oldest "
                       "first: those with a greater id, and any made in the moments before it (a longer "
                       "transaction commits late); keep them by id. Without it: newest first."})


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


def valid_endpoint(endpoint: str) -> bool:
    """https to a named host; http://127.0.0.1 only where ``PUSH_ALLOW_LOCALHOST`` (tests) says so."""
    import ipaddress
    from urllib.parse import urlsplit

    from flask import current_app

    try:
        parts = urlsplit(endpoint)
        host = parts.hostname or ""
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        return False
    if parts.scheme == "http" and host == "127.0.0.1":
        return bool(current_app.config["PUSH_ALLOW_LOCALHOST"])
    if parts.scheme != "https" or not host or host == "localhost" or parts.username or parts.password:
        return False
    try:
        ipaddress.ip_address(host)
        return False  # push services have names; an address literal would let the server be pointed inward
    except ValueError:
        return True


def _decoded_length(value: str) -> int | None:
    import base64
    import binascii

    try:
        return len(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (binascii.Error, ValueError):
        return None


class PushKeys(StrictSchema):
    p256dh = ma.fields.String(required=True, validate=validate.Length(min=80, max=100), metadata={
        "description": "The browser's P-256 public key, base64url (65 bytes, uncompressed)."})
    auth = ma.fields.String(required=True, validate=validate.Length(min=16, max=32), metadata={
        "description": "The browser's auth secret, base64url (16 bytes)."})

    @ma.validates("p256dh")
    def _point(self, value, **_):
        if _decoded_length(value) != 65 or not value.startswith("B"):
            raise ma.ValidationError("Must be a base64url uncompressed P-256 public key (65 bytes).")

    @ma.validates("auth")
    def _secret(self, value, **_):
        if _decoded_length(value) != 16:
            raise ma.ValidationError("Must be a base64url 16-byte secret.")


class PushSubscriptionArgs(StrictSchema):
    endpoint = ma.fields.String(required=True, validate=validate.Length(max=1024), metadata={
        "description": "The push service URL from `PushSubscription.toJSON()` (https only)."})
    keys = ma.fields.Nested(PushKeys, required=True)
    expirationTime = ma.fields.Integer(load_default=None, allow_none=True, strict=True,
                                       validate=validate.Range(min=0, max=253402300799000), metadata={
        "description": "When the browser says the subscription ends (milliseconds since 1970), or null."})

    @ma.validates("endpoint")
    def _endpoint(self, value, **_):
        if not valid_endpoint(value):
            raise ma.ValidationError("Must be an https URL of a push service.")


class PushEndpointArgs(StrictSchema):
    endpoint = ma.fields.String(required=True, validate=validate.Length(max=1024))


class PushSubscriptionOut(ma.Schema):
    id = ma.fields.Integer()
    endpoint = ma.fields.String()
    created_at = ma.fields.DateTime()
    expires_at = ma.fields.DateTime(allow_none=True)
    last_sent_at = ma.fields.DateTime(allow_none=True)


class PushSubscriptionList(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(PushSubscriptionOut))


class VapidKeyOut(ma.Schema):
    public_key = ma.fields.String(allow_none=True, metadata={
        "description": "`applicationServerKey` for `pushManager.subscribe` (base64url); null: push is not set up."})


class PushSettingsArgs(StrictSchema):
    push = ma.fields.Enum(EmailLevel, allow_none=True, metadata={
        "description": "none, mentions_replies or all; null: the default for your relationship style. Omitted: unchanged."})
    quiet_start = ma.fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=0, max=23), metadata={
        "description": "Quiet hours begin at this local hour (time zone: `/me/digest-settings`); null: none."})
    quiet_end = ma.fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=0, max=23), metadata={
        "description": "Quiet hours end at this local hour (may be earlier than the start: across midnight)."})


class PushSettingsOut(ma.Schema):
    push = ma.fields.Enum(EmailLevel, allow_none=True)
    effective = ma.fields.Enum(EmailLevel)
    quiet_start = ma.fields.Integer(allow_none=True)
    quiet_end = ma.fields.Integer(allow_none=True)
