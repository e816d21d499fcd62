"""Request and response schemas for moderation (REST; the same shapes travel in Socket.IO events)."""

from __future__ import annotations

from datetime import timezone

import marshmallow as ma
from flask import current_app
from marshmallow import validate

from community.models import FlagReason, PersonalFilterKind, SanctionKind
from community.schemas import AuthorOut, PostOut
from core.validation import PageArgs, SafeText, StrictBoolean, StrictSchema, page_schema

MAX_SLOW_MODE_SECONDS = 24 * 3600
_ID = {"required": True, "strict": True, "validate": validate.Range(min=1, max=2**31 - 1)}


def _reason(**kwargs):
    return SafeText(multiline=True, validate=validate.Length(max=500),
                    metadata={"description": "Why: shown in the audit log and to the member concerned."}, **kwargs)


class ReasonArgs(StrictSchema):
    reason = _reason(required=True)


class FlagArgs(StrictSchema):
    reason = ma.fields.Enum(FlagReason, required=True)
    text = SafeText(multiline=True, allow_blank=True, load_default=None, validate=validate.Length(max=500))


class FlagOut(ma.Schema):
    id = ma.fields.Integer()
    post_id = ma.fields.Integer()
    reason = ma.fields.Enum(FlagReason)
    text = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()


class StaffFlagOut(FlagOut):
    """Staff see who flagged."""

    flagger_id = ma.fields.Integer()


class AppealArgs(StrictSchema):
    text = SafeText(required=True, multiline=True, validate=validate.Length(max=2000))


class AppealOut(ma.Schema):
    id = ma.fields.Integer()
    post_id = ma.fields.Integer()
    account_id = ma.fields.Integer()
    text = ma.fields.String()
    created_at = ma.fields.DateTime()
    resolved_at = ma.fields.DateTime(allow_none=True)
    resolution = ma.fields.String(allow_none=True, metadata={"description": "granted, denied, or null while pending."})


class QueueItemOut(ma.Schema):
    post = ma.fields.Nested(PostOut)
    flags = ma.fields.List(ma.fields.Nested(StaffFlagOut))
    flag_count = ma.fields.Integer()
    first_flagged_at = ma.fields.DateTime(allow_none=True)
    appeal = ma.fields.Nested(AppealOut, allow_none=True)


class DirectQueueItemOut(QueueItemOut):
    """A flagged message of a direct conversation, with the messages around it and nothing more."""

    conversation_id = ma.fields.Integer(attribute="post.space_id")
    context_before = ma.fields.List(ma.fields.Nested(PostOut), metadata={"description": "Up to 5 messages before, in order."})
    context_after = ma.fields.List(ma.fields.Nested(PostOut), metadata={"description": "Up to 5 messages after, in order."})


class AuditOut(ma.Schema):
    id = ma.fields.Integer()
    actor = ma.fields.Nested(AuthorOut, allow_none=True, metadata={"description": "null: the platform itself."})
    actor_id = ma.fields.Integer(allow_none=True)
    action = ma.fields.String()
    target_type = ma.fields.String()
    target_id = ma.fields.Integer()
    space_id = ma.fields.Integer(allow_none=True)
    brand_id = ma.fields.Integer(allow_none=True)
    reason = ma.fields.String()
    before = ma.fields.Dict(allow_none=True)
    after = ma.fields.Dict(allow_none=True)
    created_at = ma.fields.DateTime()


class MoveArgs(StrictSchema):
    space_id = ma.fields.Integer(**_ID, metadata={"description": "Another space of the same brand."})
    reason = _reason(required=True)


class MuteArgs(StrictSchema):
    until = ma.fields.AwareDateTime(required=True, default_timezone=timezone.utc, metadata={"description": "UTC when not given."})
    reason = _reason(required=True)


class BanArgs(StrictSchema):
    until = ma.fields.AwareDateTime(load_default=None, default_timezone=timezone.utc,
                                    metadata={"description": "When the ban ends; omit or null for a ban without end."})
    reason = _reason(required=True)


class SanctionOut(ma.Schema):
    id = ma.fields.Integer()
    space_id = ma.fields.Integer()
    account_id = ma.fields.Integer()
    kind = ma.fields.Enum(SanctionKind)
    until = ma.fields.DateTime(allow_none=True)
    reason = ma.fields.String()
    created_by_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.DateTime()
    lifted_at = ma.fields.DateTime(allow_none=True)


class SettingsArgs(StrictSchema):
    class Meta(StrictSchema.Meta):
        # Something to change besides the reason, in the OpenAPI document too (core.errors.SchemaRulesPlugin).
        openapi_rules = {"anyOf": [{"required": ["slow_mode_seconds"]}, {"required": ["new_member_limits"]}]}

    slow_mode_seconds = ma.fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_SLOW_MODE_SECONDS),
                                          metadata={"description": "At most one post per this many seconds per member; 0: off."})
    new_member_limits = StrictBoolean(metadata={"description": "Limit members in their first day here."})
    reason = _reason(required=True)


class SettingsOut(ma.Schema):
    space_id = ma.fields.Integer(attribute="id")
    slow_mode_seconds = ma.fields.Integer()
    new_member_limits = ma.fields.Boolean()
    new_member_hours = ma.fields.Function(lambda _space: current_app.config["NEW_MEMBER_HOURS"])
    new_member_posts_per_hour = ma.fields.Function(lambda _space: current_app.config["NEW_MEMBER_POSTS_PER_HOUR"])


class PostModerationOut(ma.Schema):
    """What the author (or staff) may know about a post's moderation."""

    post_id = ma.fields.Integer()
    hidden = ma.fields.Boolean()
    hidden_reason = ma.fields.String(allow_none=True)
    hidden_at = ma.fields.DateTime(allow_none=True)
    hidden_by = ma.fields.String(allow_none=True, metadata={"description": "moderator, or flags (the flag threshold)."})
    deleted = ma.fields.Boolean()
    appeal = ma.fields.Nested(AppealOut, allow_none=True)
    can_appeal = ma.fields.Boolean()


class PersonalFilterOut(ma.Schema):
    kind = ma.fields.Enum(PersonalFilterKind)
    account = ma.fields.Nested(AuthorOut, attribute="target")
    created_at = ma.fields.DateTime()


class AuditListArgs(PageArgs):
    action = ma.fields.String(load_default=None, validate=validate.Regexp(r"^[a-z_]{1,40}$"),
                              metadata={"description": "Only entries of this action, e.g. post_hidden."})


QueuePage = page_schema(QueueItemOut, "ModerationQueuePage")
DirectQueuePage = page_schema(DirectQueueItemOut, "DirectModerationQueuePage")
AuditPage = page_schema(AuditOut, "AuditPage")
SanctionPage = page_schema(SanctionOut, "SanctionPage")
PersonalFilterPage = page_schema(PersonalFilterOut, "PersonalFilterPage")
