"""iCalendar (RFC 5545) documents of events, built with the ``icalendar`` library.

Times are written in the event's own IANA zone (``DTSTART;TZID=Europe/Paris:...``) with the
matching VTIMEZONE, so a calendar shows the local time of the event wherever it is read; UID is
stable per event and SEQUENCE rises with every edit, so a re-imported or refreshed feed updates
the entry; a cancelled event stays, with ``STATUS:CANCELLED``.
"""

from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import ZoneInfo

import icalendar
from flask import current_app

from core.extensions import utcnow
from events.models import Event, EventMode, EventStatus

PRODID = "-//Brand community platform//events//EN"


def _uid(event: Event) -> str:
    host = current_app.config["PUBLIC_URL"].split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "localhost"
    return f"event-{event.id}@{host}"


def _component(event: Event) -> icalendar.Event:
    zone = ZoneInfo(event.time_zone)
    item = icalendar.Event()
    item.add("uid", _uid(event))
    item.add("dtstamp", utcnow())
    item.add("created", event.created_at)
    item.add("last-modified", event.updated_at)
    item.add("sequence", event.sequence)
    item.add("summary", event.title)
    if event.description:
        item.add("description", event.description)
    item.add("dtstart", event.starts_at.astimezone(zone))
    item.add("dtend", event.ends_at.astimezone(zone))
    if event.mode is EventMode.online:
        item.add("url", event.url)
        item.add("location", event.url)
    else:
        item.add("location", event.location)
    item.add("status", "CANCELLED" if event.status is EventStatus.cancelled else "CONFIRMED")
    return item


def calendar(events: Iterable[Event], *, name: str | None = None) -> bytes:
    """One VCALENDAR with a VEVENT per event and a VTIMEZONE per zone they use."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if name:
        cal.add("x-wr-calname", name)
    for event in events:
        cal.add_component(_component(event))
    cal.add_missing_timezones()
    return cal.to_ical()
