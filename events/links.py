"""What the events wing puts in e-mails to guests: their signed link and the event's summary.

A guest link carries ``{"e": event id, "g": guest id}`` signed with ``SECRET_KEY`` (itsdangerous,
timestamped, salt ``event-guest``); ``events.guests.guest_from_token`` checks it. Kept apart from
``events.guests`` so that the notices of ``events.service`` (promotion, cancellation) and the reminder
sweep can link guests to their event without importing the guests' actions.
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import URLSafeTimedSerializer

from events.models import Event, EventGuest

GUEST_SALT = "event-guest"


def guest_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=GUEST_SALT)


def guest_token(guest: EventGuest) -> str:
    return guest_serializer().dumps({"e": guest.event_id, "g": guest.id})


def guest_link(guest: EventGuest) -> str:
    return f"{current_app.config['PUBLIC_URL']}/events/{guest.event_id}/guest#token={guest_token(guest)}"


def event_summary(event: Event) -> str:
    """Title, times (UTC, and the zone it is held in) and where: the lines every e-mail about an event shows."""
    where = event.url if event.url else event.location
    return f"{event.title}\n{event.starts_at.isoformat()} to {event.ends_at.isoformat()} (UTC; held in {event.time_zone})\n{where}"
