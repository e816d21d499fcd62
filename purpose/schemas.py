"""Request and response schemas for brands and purposes."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from core.validation import PageArgs, SafeText, StrictSchema, Tags, page_schema
from purpose.models import PurposeKind


class BrandArgs(StrictSchema):
    name = SafeText(required=True, validate=validate.Length(max=120))
    description = SafeText(multiline=True, allow_blank=True, load_default="", validate=validate.Length(max=4000))


class BrandOut(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    description = ma.fields.String()
    created_at = ma.fields.DateTime()


class PurposeArgs(StrictSchema):
    kind = ma.fields.Enum(PurposeKind, required=True, metadata={"description": "life: personal goals; societal: causes."})
    title = SafeText(required=True, validate=validate.Length(max=120))
    statement = SafeText(multiline=True, allow_blank=True, load_default="", validate=validate.Length(max=4000))
    tags = Tags(metadata={"description": "Goals (life) or causes (societal), e.g. fitness, ocean-cleanup."})


class PurposeListArgs(PageArgs):
    kind = ma.fields.Enum(PurposeKind, load_default=None)


class PurposeOut(ma.Schema):
    id = ma.fields.Integer()
    brand_id = ma.fields.Integer()
    kind = ma.fields.Enum(PurposeKind)
    title = ma.fields.String()
    statement = ma.fields.String()
    tags = ma.fields.List(ma.fields.String())
    created_at = ma.fields.DateTime()


class ManagerOut(ma.Schema):
    brand_id = ma.fields.Integer()
    account_id = ma.fields.Integer()
    created_at = ma.fields.DateTime()


BrandPage = page_schema(BrandOut, "BrandPage")
PurposePage = page_schema(PurposeOut, "PurposePage")
