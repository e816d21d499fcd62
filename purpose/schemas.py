"""Request and response schemas for brands and purposes."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from core.extensions import utcnow
from core.validation import EmailAddress, ListingArgs, PageArgs, SafeText, StrictBoolean, StrictSchema, Tags, page_schema
from purpose.clv import TRANSACTIONS
from purpose.models import ContactPreference, LegalBasis, PurposeKind, StakeholderKind
from purpose.relationship import STYLES


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


class AnalystOut(ManagerOut):
    pass


SEGMENTS = ("heavy", "medium", "light", "lapsed", "nonuser")


class ScopeArgs(StrictSchema):
    purpose_id = ma.fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**31 - 1),
                                   metadata={"description": "Only this purpose's touchpoints and spaces."})
    transactions = ma.fields.String(load_default="daily", validate=validate.OneOf(TRANSACTIONS), metadata={
        "description": "How purchases become CLV transactions: daily (default) merges one person's purchases "
                       "of the same UTC day into one, whose spend is the day's total; raw counts every purchase."})
    as_of = ma.fields.AwareDateTime(load_default=None, default_timezone=None, metadata={
        "description": "Score as of this time (ISO 8601 with a time zone; default now): touchpoints after it "
                       "are ignored, and recency, RFM, pyramid tenure and CLV count back from it."})

    @ma.validates("as_of")
    def _not_in_the_future(self, value, **_):
        if value is not None and value > utcnow():
            raise ma.ValidationError("as_of is in the future: nothing after now is known.")


class ClvModelFitOut(ma.Schema):
    r = ma.fields.Float()
    alpha = ma.fields.Float()
    a = ma.fields.Float()
    b = ma.fields.Float()
    p = ma.fields.Float()
    q = ma.fields.Float()
    v = ma.fields.Float()
    log_likelihood = ma.fields.Float()
    converged = ma.fields.Boolean()
    customers = ma.fields.Integer(metadata={"description": "Customers the model was fitted on."})


class ClvFitOut(ma.Schema):
    status = ma.fields.String(metadata={"description": "fitted, or why not (as clv_model)."})
    transactions = ma.fields.String(metadata={"description": "The transaction preparation used: daily or raw."})
    customers = ma.fields.Integer(metadata={"description": "Buyers in scope."})
    repeat_customers = ma.fields.Integer()
    bgnbd = ma.fields.Nested(ClvModelFitOut, allow_none=True, metadata={
        "description": "Purchase model: r, alpha, a, b; null when not fitted."})
    gamma_gamma = ma.fields.Nested(ClvModelFitOut, allow_none=True, metadata={
        "description": "Spend model: p, q, v (repeat buyers with spend); null when not fitted."})


class ProfileListArgs(PageArgs, ScopeArgs):
    segment = ma.fields.String(load_default=None, validate=validate.OneOf(SEGMENTS))
    level = ma.fields.Integer(load_default=None, validate=validate.Range(min=0, max=6),
                              metadata={"description": "Pyramid level, 0 (none) to 6 (co-creation)."})
    style = ma.fields.String(load_default=None, validate=validate.OneOf(STYLES))
    kind = ma.fields.Enum(StakeholderKind, load_default=None)


class StakeholderArgs(StrictSchema):
    kind = ma.fields.Enum(StakeholderKind, required=True)
    source = SafeText(load_default="manual", validate=validate.Length(max=40))
    external_id = SafeText(load_default=None, validate=validate.Length(max=128))
    email = EmailAddress(load_default=None)
    legal_basis = ma.fields.Enum(LegalBasis, load_default=LegalBasis.none)
    contact_preference = ma.fields.Enum(ContactPreference, load_default=None)
    display_name = SafeText(load_default=None, validate=validate.Length(max=120),
                            metadata={"description": "The name the brand knows the person by; shown to its staff only."})


class KnownOut(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String()
    account_id = ma.fields.Integer(allow_none=True)
    source = ma.fields.String()
    external_id = ma.fields.String(allow_none=True)
    display_name = ma.fields.String(allow_none=True)
    contact_preference = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()
    converted_at = ma.fields.DateTime(allow_none=True)
    converted_from = ma.fields.String(allow_none=True)


class StakeholderOut(ma.Schema):
    id = ma.fields.Integer()
    brand_id = ma.fields.Integer()
    kind = ma.fields.Enum(StakeholderKind)
    account_id = ma.fields.Integer(allow_none=True)
    source = ma.fields.String()
    external_id = ma.fields.String(allow_none=True)
    display_name = ma.fields.String(allow_none=True)
    interests = ma.fields.List(ma.fields.String(), allow_none=True)
    purpose_ids = ma.fields.List(ma.fields.Integer(), allow_none=True)
    legal_basis = ma.fields.Enum(LegalBasis)
    contact_preference = ma.fields.Enum(ContactPreference, allow_none=True)
    objected = ma.fields.Boolean()
    objected_at = ma.fields.DateTime(allow_none=True)
    erased_at = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()


class RfmOut(ma.Schema):
    recency_days = ma.fields.Float(allow_none=True)
    frequency = ma.fields.Integer()
    monetary = ma.fields.Float()
    r = ma.fields.Integer()
    f = ma.fields.Integer()
    m = ma.fields.Integer()


class PyramidOut(ma.Schema):
    level = ma.fields.Integer()
    name = ma.fields.String(allow_none=True)
    next = ma.fields.String(allow_none=True)
    to_next = ma.fields.List(ma.fields.String())


class ClvOut(ma.Schema):
    expected_purchases = ma.fields.Float(metadata={"description": "Expected purchases in the next 12 months (BG/NBD)."})
    probability_alive = ma.fields.Float()
    value = ma.fields.Float(metadata={"description": "Discounted 12-month value (BG/NBD x Gamma-Gamma, 1%/month)."})


class AlignmentOut(ma.Schema):
    purpose_id = ma.fields.Integer()
    score = ma.fields.Float()


class ProfileOut(ma.Schema):
    stakeholder = ma.fields.Nested(KnownOut)
    segment = ma.fields.String()
    rfm = ma.fields.Nested(RfmOut)
    pyramid = ma.fields.Nested(PyramidOut)
    style = ma.fields.String()
    style_declared = ma.fields.Boolean()
    alignment = ma.fields.List(ma.fields.Nested(AlignmentOut))
    clv = ma.fields.Nested(ClvOut, allow_none=True)


class ProfilePage(page_schema(ProfileOut, "ProfileItems")):
    clv_fit = ma.fields.Nested(ClvFitOut, metadata={"description": "The CLV fit behind the profiles' clv values."})


class SegmentSummaryOut(ma.Schema):
    brand_id = ma.fields.Integer()
    purpose_id = ma.fields.Integer(allow_none=True)
    as_of = ma.fields.DateTime()
    people = ma.fields.Integer()
    segments = ma.fields.List(ma.fields.Dict())
    pyramid = ma.fields.List(ma.fields.Dict())
    styles = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    kinds = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    pareto_share = ma.fields.Float()
    buyers = ma.fields.Integer()
    clv_model = ma.fields.String(metadata={"description": "fitted, or why not: too-few-buyers, too-few-repeat-buyers, did-not-converge."})
    customer_equity = ma.fields.Float(allow_none=True)
    clv_fit = ma.fields.Nested(ClvFitOut)
    conversions = ma.fields.Dict()


#: ``sort`` of ``GET /brands/{id}/people``: (snapshot column, highest first?).
SNAPSHOT_SORTS = {"id": ("stakeholder_id", False), "clv": ("clv", True), "last_active": ("last_active_at", True),
                  "rank": ("opportunity_rank", False), "recency": ("recency_days", False)}
MAX_ID = 2**31 - 1


class SnapshotScopeArgs(StrictSchema):
    purpose_id = ma.fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID),
                                   metadata={"description": "The purpose's snapshot (its touchpoints and spaces only)."})


class PeopleListArgs(ListingArgs, SnapshotScopeArgs):
    """Filters and order of ``GET /brands/{id}/people`` (read from the people snapshot)."""

    RANGES = (("rank_min", "rank_max"), ("clv_min", "clv_max"), ("active_after", "active_before"))

    sort = ma.fields.String(load_default="id", validate=validate.OneOf(tuple(SNAPSHOT_SORTS)), metadata={
        "description": "id (stakeholder id, default), clv (highest first), last_active (latest first), rank "
                       "(opportunity rank in the latest done graph report, best first) or recency (days since the "
                       "last purchase, fewest first). A sort other than id lists only the people who have that "
                       "value (a CLV estimate, any activity, a rank, a purchase)."})
    segment = ma.fields.String(load_default=None, validate=validate.OneOf(SEGMENTS))
    level = ma.fields.Integer(load_default=None, validate=validate.Range(min=0, max=6),
                              metadata={"description": "Pyramid level, 0 (none) to 6 (co-creation)."})
    style = ma.fields.String(load_default=None, validate=validate.OneOf(STYLES))
    kind = ma.fields.String(load_default=None, validate=validate.OneOf(("member", "nonuser")))
    community = ma.fields.Integer(load_default=None, validate=validate.Range(min=0, max=MAX_ID),
                                  metadata={"description": "Community index in the latest done graph report."})
    rank_min = ma.fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))
    rank_max = ma.fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))
    clv_min = ma.fields.Float(load_default=None, allow_nan=False)
    clv_max = ma.fields.Float(load_default=None, allow_nan=False)
    active_after = ma.fields.AwareDateTime(load_default=None, default_timezone=None, metadata={
        "description": "Last activity (touchpoint, post or reaction) at or after this time (ISO 8601 with a time zone)."})
    active_before = ma.fields.AwareDateTime(load_default=None, default_timezone=None, metadata={
        "description": "Last activity before this time; people with no activity are not listed."})
    q = SafeText(load_default=None, validate=validate.Length(min=1, max=120), metadata={
        "description": "Part of the name the brand knows the person by (case-insensitive), or their external id."})


class SnapshotOut(ma.Schema):
    id = ma.fields.Integer()
    purpose_id = ma.fields.Integer(allow_none=True)
    as_of = ma.fields.DateTime(metadata={"description": "The profiles are computed as of this time."})
    built_at = ma.fields.DateTime()
    age_seconds = ma.fields.Float(metadata={"description": "Seconds since as_of."})
    stale = ma.fields.Boolean(metadata={"description": "The brand's people changed since (or it is older than "
                                                       "PEOPLE_SNAPSHOT_MAX_AGE_SECONDS): a rebuild is scheduled."})
    people = ma.fields.Integer()
    report_id = ma.fields.Integer(allow_none=True, metadata={
        "description": "The done graph report community, pagerank and opportunity_rank come from (null: none)."})
    clv_model = ma.fields.String(allow_none=True)


class SnapshotPersonOut(ma.Schema):
    stakeholder_id = ma.fields.Integer()
    account_id = ma.fields.Integer(allow_none=True)
    kind = ma.fields.String(metadata={"description": "member or nonuser."})
    display_name = ma.fields.String(allow_none=True, metadata={"description": "Shown to the brand's staff only."})
    external_id = ma.fields.String(allow_none=True)
    segment = ma.fields.String()
    recency_days = ma.fields.Float(allow_none=True)
    frequency = ma.fields.Integer()
    monetary = ma.fields.Float()
    pyramid_level = ma.fields.Integer()
    style = ma.fields.String()
    purpose_alignment = ma.fields.Float(metadata={"description": "With the snapshot's purpose; the best of the "
                                                                 "brand's purposes in a brand snapshot."})
    clv = ma.fields.Float(allow_none=True)
    last_active_at = ma.fields.DateTime(allow_none=True)
    community = ma.fields.Integer(allow_none=True)
    pagerank = ma.fields.Float(allow_none=True, metadata={"description": "Influence in the latest done graph report."})
    opportunity_rank = ma.fields.Integer(allow_none=True)


class PeoplePage(page_schema(SnapshotPersonOut, "SnapshotPeopleItems", dumped=True)):
    snapshot = ma.fields.Nested(SnapshotOut, allow_none=True, metadata={
        "description": "The snapshot every page of this listing reads (null: none is ready yet)."})
    building = ma.fields.Boolean(metadata={"description": "A build of the brand's snapshot is under way."})


class ProfileAnswerOut(ProfileOut):
    """``GET /stakeholders/{id}/profile``: the profile, and the people snapshot it was read from."""

    snapshot = ma.fields.Nested(SnapshotOut, allow_none=True, metadata={
        "description": "The people snapshot the profile was read from; null when it was computed for this request "
                       "(as_of or transactions given, no snapshot ready yet, or a person newer than the snapshot)."})
    building = ma.fields.Boolean(metadata={"description": "A build of the brand's snapshot is under way."})


class PeopleSegmentsOut(ma.Schema):
    snapshot = ma.fields.Nested(SnapshotOut, allow_none=True)
    building = ma.fields.Boolean()
    people = ma.fields.Integer()
    segments = ma.fields.List(ma.fields.Dict(), metadata={
        "description": "Per segment: count, revenue (monetary), customer_equity (sum of CLV; null unless fitted)."})
    pyramid = ma.fields.List(ma.fields.Dict())
    kinds = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    customer_equity = ma.fields.Float(allow_none=True)


class ImportArgs(StrictSchema):
    source = SafeText(load_default="api", validate=validate.Length(max=40),
                      metadata={"description": "The system the rows come from: external ids are unique per source."})
    stakeholder_source = SafeText(load_default=None, validate=validate.Length(max=40))


class ImportReportOut(ma.Schema):
    accepted = ma.fields.Integer()
    duplicates = ma.fields.Integer()
    rejected = ma.fields.Integer()
    errors = ma.fields.List(ma.fields.Dict(), metadata={"description": "The first rejected rows: line and reason."})


class ObjectionArgs(StrictSchema):
    objected = StrictBoolean(required=True, metadata={"description": "true: leave out of all later analysis."})


class EraseAccountArgs(StrictSchema):
    password = ma.fields.String(required=True, load_only=True, validate=validate.Length(max=256),
                                metadata={"description": "Your password again: erasure cannot be undone."})
