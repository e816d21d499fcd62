"""Request and response shapes of events, answers, check-ins and guests."""

from __future__ import annotations

from datetime import timezone
from functools import cache
from zoneinfo import available_timezones

import marshmallow as ma
from marshmallow import validate

from core.validation import EmailAddress, PageArgs, SafeText, StrictSchema, page_schema
from events.models import AttendeeStatus, EventMode, EventStatus

_ID = validate.Range(min=1, max=2**31 - 1)
MAX_CAPACITY = 1_000_000


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


class TimeZone(ma.fields.String):
    """An IANA time zone name such as ``Europe/Paris``, one of the zone database the server runs with
    (listed in the OpenAPI document as the field's ``enum``)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", validate.OneOf(sorted(_zones()), error="Not an IANA time zone name (such as Europe/Paris)."))
        kwargs.setdefault("metadata", {"description": "IANA time zone name, e.g. `Europe/Paris`.", "example": "Europe/Paris"})
        super().__init__(**kwargs)


class AwareDateTime(ma.fields.AwareDateTime):
    """An ISO 8601 time with its offset (a time without one is refused), stored in UTC."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return super()._deserialize(value, attr, data, **kwargs).astimezone(timezone.utc)
        except OverflowError:  # year 1 with a positive offset is before year 1 in UTC
            raise self.make_error("invalid") from None


class _EventFields(StrictSchema):
    title = SafeText(validate=validate.Length(max=200))
    description = SafeText(multiline=True, allow_blank=True, validate=validate.Length(max=10_000))
    mode = ma.fields.Enum(EventMode, metadata={"description": "`online` (needs `url`) or `in_person` (needs `location`)."})
    location = SafeText(allow_none=True, validate=validate.Length(max=300))
    url = SafeText(allow_none=True, validate=[validate.Length(max=500), validate.Regexp(
        r"^https?://[^\s/?#]+[^\s]*$", error="An http or https URL.")])
    starts_at = AwareDateTime(metadata={"description": "ISO 8601 with an offset."})
    ends_at = AwareDateTime(metadata={"description": "ISO 8601 with an offset; after `starts_at`."})
    time_zone = TimeZone()
    capacity = ma.fields.Integer(allow_none=True, validate=validate.Range(min=1, max=MAX_CAPACITY),
                                 metadata={"description": "Seats for `going`; null: no limit."})


class EventArgs(_EventFields):
    class Meta:
        unknown = ma.RAISE

    def on_bind_field(self, field_name, field_obj):
        if field_name in ("title", "mode", "starts_at", "ends_at", "time_zone"):
            field_obj.required = True
        elif field_name == "description":
            field_obj.load_default = ""
        else:
            field_obj.load_default = None


class EventEditArgs(_EventFields):
    """Only the fields sent change; at least one."""

    @ma.validates_schema
    def _something(self, data, **_):
        if not data:
            raise ma.ValidationError("Send at least one field to change.", "_schema")


class EventListArgs(PageArgs):
    pass


class EventOut(ma.Schema):
    id = ma.fields.Integer()
    space_id = ma.fields.Integer()
    title = ma.fields.String()
    description = ma.fields.String()
    mode = ma.fields.Enum(EventMode)
    location = ma.fields.String(allow_none=True)
    url = ma.fields.String(allow_none=True)
    starts_at = ma.fields.DateTime()
    ends_at = ma.fields.DateTime()
    time_zone = ma.fields.String()
    capacity = ma.fields.Integer(allow_none=True)
    status = ma.fields.Enum(EventStatus)
    going = ma.fields.Integer(metadata={"description": "Seats taken."})
    waitlisted = ma.fields.Integer()
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()


EventPage = page_schema(EventOut, "EventPage")


class AnswerArgs(StrictSchema):
    status = ma.fields.String(required=True, validate=validate.OneOf(["going", "maybe", "declined"]), metadata={
        "description": "`going` (a seat, or the waitlist when full), `maybe` or `declined`; `waitlisted` is only ever "
                       "the server's answer."})

    @ma.post_load
    def _status(self, data, **_):
        return {**data, "status": AttendeeStatus(data["status"])}


class AnswerOut(ma.Schema):
    event_id = ma.fields.Integer()
    status = ma.fields.Enum(AttendeeStatus)
    waitlist_position = ma.fields.Integer(allow_none=True, metadata={"description": "1: next to get a seat."})
    check_in_code = ma.fields.String(allow_none=True, metadata={
        "description": "Shown at the door while you hold a seat; works once."})
    checked_in_at = ma.fields.DateTime(allow_none=True)
    responded_at = ma.fields.DateTime()


class AttendeeOut(ma.Schema):
    id = ma.fields.Integer()
    status = ma.fields.Enum(AttendeeStatus)
    account_id = ma.fields.Integer(allow_none=True)
    guest_id = ma.fields.Integer(allow_none=True)
    name = ma.fields.String(allow_none=True)
    waitlist_position = ma.fields.Integer(allow_none=True)
    checked_in_at = ma.fields.DateTime(allow_none=True)
    responded_at = ma.fields.DateTime()


AttendeePage = page_schema(AttendeeOut, "AttendeePage")


class CheckInArgs(StrictSchema):
    code = ma.fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9 -]{4,24}$", error="A check-in code."))


class InviteArgs(StrictSchema):
    email = EmailAddress(required=True)
    name = SafeText(load_default=None, allow_none=True, validate=validate.Length(max=120))


class GuestOut(ma.Schema):
    id = ma.fields.Integer()
    event_id = ma.fields.Integer()
    email = ma.fields.String()
    name = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()


class GuestTokenArgs(StrictSchema):
    token = ma.fields.String(required=True, validate=validate.Length(min=1, max=512),
                             metadata={"description": "The signed link's token (after `#token=` in the e-mailed link)."})


class GuestAnswerArgs(AnswerArgs):
    token = ma.fields.String(required=True, validate=validate.Length(min=1, max=512))


class GuestViewOut(ma.Schema):
    event = ma.fields.Nested(EventOut)
    name = ma.fields.String(allow_none=True)
    answer = ma.fields.Nested(AnswerOut, allow_none=True)


class CalendarFeedOut(ma.Schema):
    space_id = ma.fields.Integer()
    url = ma.fields.String(metadata={"description": "Your personal address of the space's .ics feed, for calendar apps "
                                                    "(no sign-in): keep it private; a new one replaces it."})
    created_at = ma.fields.DateTime()
