"""Request and response schemas for graph reports."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from core.extensions import utcnow
from core.validation import ListingArgs, PageArgs, SafeText, StrictSchema, page_schema
from graph.models import ReportStatus
from purpose.relationship import STYLES

MAX_ID = 2**31 - 1
_id = dict(load_default=None, validate=validate.Range(min=1, max=MAX_ID))


_SCOPES = ("brand_id", "purpose_id", "space_id")


class ReportArgs(StrictSchema):
    class Meta(StrictSchema.Meta):
        # Exactly one scope, in the OpenAPI document too (core.errors.SchemaRulesPlugin): each variant
        # requires its field as an integer (not null), and ``oneOf`` refuses a body that fits two.
        openapi_rules = {
            "description": "Give exactly one of brand_id, purpose_id and space_id (the others absent or null).",
            "oneOf": [{"required": [scope], "properties": {scope: {"type": "integer"}}} for scope in _SCOPES],
        }

    brand_id = ma.fields.Integer(**_id, metadata={"description": "Scope: the whole brand."})
    purpose_id = ma.fields.Integer(**_id, metadata={"description": "Scope: one purpose's people."})
    space_id = ma.fields.Integer(**_id, metadata={"description": "Scope: one space's people."})
    since = ma.fields.AwareDateTime(load_default=None, default_timezone=None,
                                    metadata={"description": "Time window start (ISO 8601 with offset); default: everything."})
    as_of = ma.fields.AwareDateTime(load_default=None, default_timezone=None, metadata={"description": (
        "Snapshot time (ISO 8601 with offset): touchpoints and community activity after it are ignored, "
        "ages, recency and the CLV fit count back from it; default: when the report is requested.")})
    holdout_until = ma.fields.AwareDateTime(load_default=None, default_timezone=None, metadata={"description": (
        "End of a holdout period after as_of: the CLV fit, calibrated up to as_of, is checked against the "
        "repeat purchases made up to this time (customer_equity.holdout). Needs as_of.")})
    transactions = ma.fields.String(load_default="daily", validate=validate.OneOf(("daily", "raw")), metadata={
        "description": "How purchases become CLV transactions: daily (same-day purchases merged) or raw."})
    seed = ma.fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_ID),
                             metadata={"description": "Seed of the randomised methods (Louvain, betweenness pivots)."})
    top = ma.fields.Integer(load_default=50, validate=validate.Range(min=1, max=500),
                            metadata={"description": "Number of opportunities listed (1-500)."})
    half_life_days = ma.fields.Float(load_default=90.0, validate=validate.Range(min=1, max=3650),
                                     metadata={"description": "Half-life of the time decay of interactions."})

    @ma.validates("as_of")
    def _as_of_not_in_the_future(self, value, **_):
        if value is not None and value > utcnow():
            raise ma.ValidationError("as_of is in the future: nothing after now is known.")

    @ma.validates("holdout_until")
    def _holdout_not_in_the_future(self, value, **_):
        if value is not None and value > utcnow():
            raise ma.ValidationError("holdout_until is in the future: the holdout's purchases are not known yet.")

    @ma.validates_schema
    def one_scope(self, data, **_kwargs):
        given = [k for k in _SCOPES if data.get(k) is not None]
        if len(given) != 1:
            raise ma.ValidationError("Give exactly one of brand_id, purpose_id and space_id.", "_schema")
        as_of, until = data.get("as_of"), data.get("holdout_until")
        if until is not None and (as_of is None or until <= as_of):
            raise ma.ValidationError("A holdout ends after as_of: give as_of, earlier than holdout_until.", "holdout_until")


class ReportListArgs(PageArgs):
    brand_id = ma.fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_ID))


class ReportOut(ma.Schema):
    id = ma.fields.Integer()
    brand_id = ma.fields.Integer()
    purpose_id = ma.fields.Integer(allow_none=True)
    space_id = ma.fields.Integer(allow_none=True)
    requested_by = ma.fields.Integer(allow_none=True)
    status = ma.fields.Enum(ReportStatus)
    stage = ma.fields.String()
    percent = ma.fields.Integer()
    params = ma.fields.Dict()
    version = ma.fields.Integer()
    error = ma.fields.String(allow_none=True)
    snapshot_at = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()
    started_at = ma.fields.DateTime(allow_none=True)
    finished_at = ma.fields.DateTime(allow_none=True)


ReportPage = page_schema(ReportOut, "ReportPage")


class PersonChange(ma.Schema):
    node = ma.fields.String()
    label = ma.fields.String(allow_none=True)
    kind = ma.fields.String(allow_none=True)
    segment = ma.fields.String(allow_none=True)
    stakeholder_id = ma.fields.Integer(allow_none=True)
    old_node = ma.fields.String()
    old_rank = ma.fields.Integer()
    new_rank = ma.fields.Integer()
    rank = ma.fields.Integer()
    rank_change = ma.fields.Integer()
    old_score = ma.fields.Float()
    new_score = ma.fields.Float()
    score = ma.fields.Float()


class Conversion(ma.Schema):
    stakeholder_id = ma.fields.Integer()
    old_node = ma.fields.String()
    new_node = ma.fields.String()


class CompareOut(ma.Schema):
    older_id = ma.fields.Integer()
    newer_id = ma.fields.Integer()
    moved_up = ma.fields.List(ma.fields.Nested(PersonChange))
    moved_down = ma.fields.List(ma.fields.Nested(PersonChange))
    new_entries = ma.fields.List(ma.fields.Nested(PersonChange))
    dropped_out = ma.fields.List(ma.fields.Nested(PersonChange))
    converted = ma.fields.List(ma.fields.Nested(Conversion))


#: Sort orders of a report's people listing: name -> (column, descending); each ends with the row id.
PEOPLE_SORTS = {"influence": ("pagerank", True), "rank": ("opportunity_rank", False), "score": ("opportunity_score", True),
                "betweenness": ("betweenness", True), "clv": ("clv", True)}


class ReportPeopleArgs(ListingArgs):
    """Filters and order of ``GET /reports/{id}/people``."""

    RANGES = (("rank_min", "rank_max"), ("clv_min", "clv_max"))

    sort = ma.fields.String(load_default="influence", validate=validate.OneOf(tuple(PEOPLE_SORTS)), metadata={
        "description": "influence (PageRank, highest first), rank (opportunity rank, best first), score "
                       "(opportunity score, highest first), betweenness or clv (highest first). rank and score "
                       "list only the people who may be ranked (light and lapsed users, nonusers)."})
    kind = ma.fields.String(load_default=None, validate=validate.OneOf(("member", "nonuser")))
    segment = ma.fields.String(load_default=None, validate=validate.OneOf(("heavy", "medium", "light", "lapsed", "nonuser")))
    community = ma.fields.Integer(load_default=None, validate=validate.Range(min=0, max=MAX_ID))
    pyramid_level = ma.fields.Integer(load_default=None, validate=validate.Range(min=0, max=6))
    style_preference = ma.fields.String(load_default=None, validate=validate.OneOf(STYLES))
    rank_min = ma.fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))
    rank_max = ma.fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))
    clv_min = ma.fields.Float(load_default=None, allow_nan=False)
    clv_max = ma.fields.Float(load_default=None, allow_nan=False)
    q = SafeText(load_default=None, validate=validate.Length(min=1, max=120), metadata={
        "description": "Part of a name or label (case-insensitive), or an external id."})


class ReportPersonOut(ma.Schema):
    node = ma.fields.String()
    kind = ma.fields.String(allow_none=True)
    label = ma.fields.String(allow_none=True)
    name = ma.fields.String(allow_none=True)
    external_id = ma.fields.String(allow_none=True)
    stakeholder_id = ma.fields.Integer(allow_none=True)
    account_id = ma.fields.Integer(allow_none=True)
    segment = ma.fields.String(allow_none=True)
    pyramid_level = ma.fields.Integer()
    style_preference = ma.fields.String(allow_none=True)
    community = ma.fields.Integer()
    pagerank = ma.fields.Float()
    betweenness = ma.fields.Float()
    core_number = ma.fields.Integer()
    opportunity_rank = ma.fields.Integer(allow_none=True)
    opportunity_score = ma.fields.Float(allow_none=True)
    clv = ma.fields.Float()
    purpose_alignment = ma.fields.Float()


ReportPeoplePage = page_schema(ReportPersonOut, "ReportPeoplePage", dumped=True)


class CommunityOut(ma.Schema):
    index = ma.fields.Integer()
    size = ma.fields.Integer()
    kinds = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    segments = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    pyramid = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    customer_equity = ma.fields.Float()
    key_members = ma.fields.List(ma.fields.Nested(ReportPersonOut), metadata={"description": "Highest PageRank first."})
    brokers = ma.fields.List(ma.fields.Nested(ReportPersonOut), metadata={"description": "Highest betweenness first."})
    opportunities = ma.fields.List(ma.fields.Nested(ReportPersonOut), metadata={"description": "Best opportunity rank first."})
