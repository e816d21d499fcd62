"""REST views for events: parse, call ``events.service`` / ``events.guests``, serialise.

Who may do what: whoever sees the space sees its events and their calendars; members of the space
(and the brand's managers, admins) answer and invite guests; the brand's managers and admins create,
edit and cancel events, list the answers and check people in. Guests use their signed link only.
"""

from __future__ import annotations

from flask import Response
from sqlalchemy import func, select

from community.access import community_space
from core.auth import authenticated, current_account, limit_writes
from core.errors import ApiBlueprint
from core.extensions import db
from core.pagination import SortKey, keyset_page
from core.validation import PageArgs
from events import calendar, feeds, guests, service
from events.models import Attendee, AttendeeStatus, Event, EventGuest
from events.schemas import (AnswerArgs, AnswerOut, AttendeePage, CalendarFeedOut, CheckInArgs, EventArgs, EventEditArgs, EventListArgs,
                            EventOut, EventPage, GuestAnswerArgs, GuestOut, GuestTokenArgs, GuestViewOut, InviteArgs)

blp = limit_writes(ApiBlueprint("events", __name__, url_prefix="/api/v1", description="Brand events, answers and guests"))

ICS_TYPE = "text/calendar; charset=utf-8"


def _counts(event_ids: list[int]) -> dict:
    stmt = select(Attendee.event_id, Attendee.status, func.count()).where(
        Attendee.event_id.in_(event_ids), Attendee.status.in_([AttendeeStatus.going, AttendeeStatus.waitlisted])
    ).group_by(Attendee.event_id, Attendee.status)
    out = {}
    for event_id, status, count in db.session.execute(stmt):
        out.setdefault(event_id, {})[status] = count
    return out


def _out(event: Event, counts: dict | None = None) -> dict:
    counts = (counts if counts is not None else _counts([event.id])).get(event.id, {})
    data = {k: getattr(event, k) for k in EventOut._declared_fields if hasattr(event, k)}
    return {**data, "going": counts.get(AttendeeStatus.going, 0), "waitlisted": counts.get(AttendeeStatus.waitlisted, 0)}


def _answer(attendee: Attendee) -> dict:
    return {"event_id": attendee.event_id, "status": attendee.status,
            "waitlist_position": service.waitlist_position(attendee),
            "check_in_code": attendee.check_in_code if attendee.status is AttendeeStatus.going else None,
            "checked_in_at": attendee.checked_in_at, "responded_at": attendee.responded_at}


@blp.route("/spaces/<id:space_id>/events", methods=["POST"])
@authenticated
@blp.arguments(EventArgs)
@blp.response(201, EventOut)
def create_event(args, space_id):
    """Create an event in the space (the brand's managers and admins)."""
    return _out(service.do_create_event(current_account(), community_space(current_account(), space_id), args), {})


@blp.route("/spaces/<id:space_id>/events", methods=["GET"])
@authenticated
@blp.arguments(EventListArgs, location="query")
@blp.response(200, EventPage)
def list_events(args, space_id):
    """The space's events by start time (cancelled ones included, with their status)."""
    space = community_space(current_account(), space_id)
    page = keyset_page(select(Event).where(Event.space_id == space.id), [SortKey(Event.starts_at), SortKey(Event.id)],
                       scope=f"events:{space.id}", args=args, attrs=["starts_at", "id"])
    counts = _counts([e.id for e in page["items"]])
    return {**page, "items": [_out(e, counts) for e in page["items"]]}


@blp.route("/spaces/<id:space_id>/events.ics", methods=["GET"])
@blp.doc(responses={"200": {"description": "An iCalendar feed of the space's events.", "content": {"text/calendar": {}}}})
@authenticated
def space_calendar(space_id):
    """The space's events as an iCalendar feed (RFC 5545), times in each event's own zone."""
    return _space_calendar_response(community_space(current_account(), space_id))


def _space_calendar_response(space):
    events = db.session.scalars(select(Event).where(Event.space_id == space.id).order_by(Event.starts_at, Event.id))
    return Response(calendar.calendar(events, name=space.name), content_type=ICS_TYPE,
                    headers={"Content-Disposition": f'inline; filename="space-{space.id}.ics"'})


@blp.route("/spaces/<id:space_id>/calendar-feed", methods=["POST"])
@authenticated
@blp.response(201, CalendarFeedOut)
def new_calendar_feed(space_id):
    """A personal address of the space's calendar feed for calendar apps (no sign-in needed to read it);
    replaces the one you had, which stops working. It stops working too once you can no longer see the space."""
    account = current_account()
    return feeds.out(feeds.do_new_feed(account, community_space(account, space_id)))


@blp.route("/spaces/<id:space_id>/calendar-feed", methods=["GET"])
@authenticated
@blp.response(200, CalendarFeedOut)
def my_calendar_feed(space_id):
    """Your current personal feed address for the space (404 when you have none)."""
    account = current_account()
    return feeds.out(feeds.my_feed(account, community_space(account, space_id)))


@blp.route("/spaces/<id:space_id>/calendar-feed", methods=["DELETE"])
@authenticated
@blp.response(204)
def revoke_calendar_feed(space_id):
    """Revoke your personal feed address for the space: calendar apps using it get 404 from now on."""
    account = current_account()
    feeds.do_revoke_feed(account, community_space(account, space_id))


@blp.route("/calendar-feeds/<string:token>/events.ics", methods=["GET"])
@blp.doc(responses={"200": {"description": "An iCalendar feed of the space's events.",
                                         "content": {"text/calendar": {}}}})
def calendar_feed(token):
    """A space's calendar feed by a member's personal address (no sign-in: the address is the credential);
    404 ``unknown-calendar-feed`` once it was replaced or revoked, or its owner can no longer see the space."""
    return _space_calendar_response(feeds.space_of_feed(token))


@blp.route("/events/<id:event_id>", methods=["GET"])
@authenticated
@blp.response(200, EventOut)
def get_event(event_id):
    event, _space = service.visible_event(current_account(), event_id)
    return _out(event)


@blp.route("/events/<id:event_id>", methods=["PATCH"])
@authenticated
@blp.arguments(EventEditArgs)
@blp.response(200, EventOut)
def edit_event(args, event_id):
    """Change an event (the brand's managers); more seats seat the waitlist in order."""
    return _out(service.do_edit_event(current_account(), event_id, args))


@blp.route("/events/<id:event_id>/cancel", methods=["POST"])
@authenticated
@blp.response(200, EventOut)
def cancel_event(event_id):
    """Cancel an event (the brand's managers): it stays listed as cancelled; no more answers or check-ins."""
    return _out(service.do_cancel_event(current_account(), event_id))


@blp.route("/events/<id:event_id>.ics", methods=["GET"])
@blp.doc(responses={"200": {"description": "The event as an iCalendar file.", "content": {"text/calendar": {}}}})
@authenticated
def event_calendar(event_id):
    """One event as an iCalendar file (RFC 5545)."""
    event, _space = service.visible_event(current_account(), event_id)
    return Response(calendar.calendar([event]), content_type=ICS_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="event-{event.id}.ics"'})


@blp.route("/events/<id:event_id>/rsvp", methods=["PUT"])
@authenticated
@blp.arguments(AnswerArgs)
@blp.response(200, AnswerOut)
def answer(args, event_id):
    """Answer (members of the space): ``going`` takes a seat, or a place on the waitlist when the event is full."""
    return _answer(service.do_answer(current_account(), event_id, args["status"]))


@blp.route("/events/<id:event_id>/rsvp", methods=["GET"])
@authenticated
@blp.response(200, AnswerOut)
def my_answer(event_id):
    """Your answer, your place on the waitlist and, while you hold a seat, your check-in code."""
    return _answer(service.my_answer(current_account(), event_id))


@blp.route("/events/<id:event_id>/attendees", methods=["GET"])
@authenticated
@blp.arguments(PageArgs, location="query")
@blp.response(200, AttendeePage)
def list_attendees(args, event_id):
    """Everyone who answered, in order of answer rows (the brand's managers); codes are not listed."""
    event, space = service.visible_event(current_account(), event_id)
    service.require_manager(current_account(), space)
    page = keyset_page(select(Attendee).where(Attendee.event_id == event.id), [SortKey(Attendee.id)],
                       scope=f"attendees:{event.id}", args=args, attrs=["id"])
    names = _names(page["items"])
    page["items"] = [{"id": a.id, "status": a.status, "account_id": a.account_id, "guest_id": a.guest_id,
                      "name": names.get((a.account_id, a.guest_id)), "waitlist_position": service.waitlist_position(a),
                      "checked_in_at": a.checked_in_at, "responded_at": a.responded_at} for a in page["items"]]
    return page


def _names(attendees: list[Attendee]) -> dict:
    from core.accounts import Account

    accounts = [a.account_id for a in attendees if a.account_id]
    guest_ids = [a.guest_id for a in attendees if a.guest_id]
    out = {}
    if accounts:
        out.update({(i, None): n for i, n in db.session.execute(
            select(Account.id, Account.display_name).where(Account.id.in_(accounts)))})
    if guest_ids:
        out.update({(None, i): n for i, n in db.session.execute(
            select(EventGuest.id, EventGuest.name).where(EventGuest.id.in_(guest_ids)))})
    return out


@blp.route("/events/<id:event_id>/check-ins", methods=["POST"])
@authenticated
@blp.arguments(CheckInArgs)
@blp.response(200, AnswerOut)
def check_in(args, event_id):
    """Check a person in by the code they show (the brand's managers): each code works once
    (409 ``already-checked-in``); a code of no seated person is 404 ``unknown-check-in-code``."""
    return _answer(service.do_check_in(current_account(), event_id, args["code"]))


@blp.route("/events/<id:event_id>/guests", methods=["POST"])
@authenticated
@blp.arguments(InviteArgs)
@blp.response(201, GuestOut)
def invite(args, event_id):
    """Invite someone without an account by e-mail (members of the space): they get a signed link to answer.
    ``EVENT_INVITES_PER_DAY`` per member per 24 hours (429 ``invite-limit``)."""
    return guests.do_invite(current_account(), event_id, args["email"], args["name"])


@blp.route("/events/<id:event_id>/guest", methods=["GET"])
@blp.arguments(GuestTokenArgs, location="query")
@blp.response(200, GuestViewOut)
def guest_view(args, event_id):
    """What a guest's link shows (no account): the event, their answer and, with a seat, their check-in code."""
    event, _space, guest = guests.guest_from_token(event_id, args["token"])
    attendee = guests.guest_attendee(event.id, guest)
    return {"event": _out(event), "name": guest.name, "answer": _answer(attendee) if attendee else None}


@blp.route("/events/<id:event_id>/guest/rsvp", methods=["PUT"])
@blp.arguments(GuestAnswerArgs)
@blp.response(200, AnswerOut)
def guest_answer(args, event_id):
    """A guest's answer through their signed link (no account)."""
    _event, _guest, attendee = guests.do_guest_answer(event_id, args["token"], args["status"])
    return _answer(attendee)
