"""Request and response shapes of badges, grants and trust levels."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from core.validation import SafeText, StrictBoolean, StrictSchema
from recognition.models import BadgeTier

_ID = {"required": True, "strict": True, "validate": validate.Range(min=1, max=2**31 - 1)}
TRUST_LEVELS = {0: "new", 1: "basic", 2: "member", 3: "regular"}


def _reason(**kwargs):
    return SafeText(multiline=True, validate=validate.Length(min=1, max=500),
                    metadata={"description": "Why: kept with the grant, shown to the member and in the audit log."}, **kwargs)


class BadgeOut(ma.Schema):
    id = ma.fields.Integer()
    key = ma.fields.String()
    name = ma.fields.String()
    description = ma.fields.String()
    tier = ma.fields.Enum(BadgeTier)
    automatic = ma.fields.Boolean()
    brand_id = ma.fields.Integer(allow_none=True)


class BadgeArgs(StrictSchema):
    key = SafeText(required=True, validate=validate.Regexp(r"^[a-z0-9_]{2,40}$", error="2-40 of a-z, 0-9 and _."))
    name = SafeText(required=True, validate=validate.Length(min=1, max=80))
    description = SafeText(load_default="", validate=validate.Length(max=300))
    tier = ma.fields.Enum(BadgeTier, load_default=BadgeTier.bronze)


class GrantArgs(StrictSchema):
    account_id = ma.fields.Integer(**_ID)
    reason = _reason(required=True)


class RevokeArgs(StrictSchema):
    reason = _reason(required=True)


class GrantOut(ma.Schema):
    id = ma.fields.Integer()
    account_id = ma.fields.Integer()
    badge = ma.fields.Nested(BadgeOut)
    granted_at = ma.fields.DateTime()
    granted_by = ma.fields.Integer(allow_none=True, metadata={"description": "Null for automatic grants."})
    reason = ma.fields.String()


class AccountBadgesOut(ma.Schema):
    account_id = ma.fields.Integer()
    trust_level = ma.fields.Integer()
    trust_level_name = ma.fields.String(metadata={"description": "new, basic, member or regular."})
    badges = ma.fields.List(ma.fields.Nested(GrantOut))


class TrustLevelArgs(StrictSchema):
    level = ma.fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=3))
    locked = StrictBoolean(required=True)


class TrustLevelOut(ma.Schema):
    account_id = ma.fields.Integer()
    trust_level = ma.fields.Integer()
    trust_level_name = ma.fields.String()
    trust_level_locked = ma.fields.Boolean()
