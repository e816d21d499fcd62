"""The space event log: gap-free per-space sequence, publishing after commit, replay for resume.

A change takes the space's next sequence number with ``next_space_seq`` (an UPDATE ...
RETURNING that holds the space row's lock until commit), appends a ``SpaceEvent`` in the
same transaction, commits, and only then ``publish`` broadcasts the event to the space's
room. A transaction that rolls back gives its number back, so the sequence has no gaps;
events of one space commit in sequence order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import click
from flask import current_app
from sqlalchemy import bindparam, delete, func, select, update

from community.models import SpaceEvent, Space
from core import sql
from core.cli import with_schema
from core.outbox import on_commit
from core.extensions import db, socketio, utcnow

EVENT_NAME = "space_event"
REPLAY_PAGE = 500


def space_room(space_id: int) -> str:
    return f"space:{space_id}"


def space_of_room(room: str) -> int | None:
    """The space whose room this is (``space_room``'s inverse); None for any other room."""
    prefix, _, number = room.partition(":")
    return int(number) if prefix == "space" and number.isdigit() else None


def account_room(account_id: int) -> str:
    """Every socket of one account joins this room on connect: events meant for that person
    (a report's progress, a moderation notice) go here, on whichever process holds the socket."""
    return f"account:{account_id}"


_NEXT_SEQ = (  # built once: every change of every space runs it
    update(Space.__table__)
    .where(Space.__table__.c.id == bindparam("space_id"))
    .values(last_seq=Space.__table__.c.last_seq + 1)
    .returning(Space.__table__.c.last_seq)
)


def lock_spaces(*space_ids: int) -> None:
    """Take several spaces' row locks, in id order, before numbering events in more than one:
    two transactions that each number in both (opposite thread moves) then never deadlock.
    (SQLite has one writer at a time and no row locks; there this reads the rows.)"""
    db.session.execute(select(Space.id).where(Space.id.in_(space_ids)).order_by(Space.id).with_for_update())


def next_space_seq(space_id: int) -> int:
    """Take the space's next sequence number; the row lock is held until the commit."""
    return sql.run(_NEXT_SEQ, {"space_id": space_id}).scalar_one()


def record_event(space_id: int, kind: str, data: dict, *, seq: int | None = None, post_id: int | None = None) -> SpaceEvent:
    """Append an event to the log in the current transaction (numbered unless ``seq`` is given);
    it is broadcast to the space's room once the transaction commits (``core.outbox``)."""
    event = sql.insert_loaded(SpaceEvent, {
        "space_id": space_id, "seq": seq if seq is not None else next_space_seq(space_id), "kind": kind,
        "post_id": post_id, "data": data, "created_at": utcnow(),
    })
    on_commit(publish, event)
    return event


def event_payload(event: SpaceEvent) -> dict:
    """What clients receive for an event, live or replayed."""
    return {
        "space_id": event.space_id, "seq": event.seq, "kind": event.kind,
        "at": event.created_at.isoformat(), "data": event.data,
    }


def publish(*events: SpaceEvent) -> None:
    """Broadcast committed events to their spaces' rooms (every server process, via Redis).
    ``record_event`` queues this for after the commit; nothing else needs to call it."""
    for event in events:
        socketio.emit(EVENT_NAME, event_payload(event), to=space_room(event.space_id))


def scrub_post(post_id: int) -> None:
    """Remove a deleted post's body from the events already logged, so replays never show it."""
    for event in db.session.scalars(select(SpaceEvent).where(SpaceEvent.post_id == post_id)):
        if "post" in event.data and event.data["post"].get("body") is not None:
            event.data = {**event.data, "post": {**event.data["post"], "body": None, "deleted": True}}


@dataclass(frozen=True)
class Replay:
    events: list[dict]
    last_seq: int  # the sequence number the client has after applying ``events``
    more: bool  # more events follow: resume again from ``last_seq``
    resync_required: bool = False


def replay_after(space_id: int, after_seq: int, *, limit: int = REPLAY_PAGE) -> Replay:
    """Events after ``after_seq``, in order; ``resync_required`` when some were pruned or unknown."""
    last_seq = db.session.scalar(select(Space.last_seq).where(Space.id == space_id))
    if after_seq > last_seq:
        return Replay([], after_seq, False, resync_required=True)
    if after_seq == last_seq:
        return Replay([], after_seq, False)
    oldest = db.session.scalar(select(func.min(SpaceEvent.seq)).where(SpaceEvent.space_id == space_id))
    if oldest is None or oldest > after_seq + 1:
        return Replay([], after_seq, False, resync_required=True)
    rows = list(
        db.session.scalars(
            select(SpaceEvent)
            .where(SpaceEvent.space_id == space_id, SpaceEvent.seq > after_seq)
            .order_by(SpaceEvent.seq)
            .limit(limit)
        )
    )
    new_last = rows[-1].seq if rows else after_seq
    return Replay([event_payload(e) for e in rows], new_last, len(rows) == limit)


def prune_events(*, older_than_days: int | None = None) -> int:
    """Delete events past the retention window (``EVENT_RETENTION_DAYS``); returns how many."""
    days = older_than_days if older_than_days is not None else current_app.config["EVENT_RETENTION_DAYS"]
    cutoff = utcnow() - timedelta(days=days)
    result = db.session.execute(delete(SpaceEvent).where(SpaceEvent.created_at < cutoff))
    db.session.commit()
    return result.rowcount


@click.command("prune-events")
@click.option("--older-than-days", type=int, default=None, help="Default: EVENT_RETENTION_DAYS.")
@with_schema
def prune_events_command(older_than_days: int | None) -> None:
    """Delete space events past the retention window (run daily, e.g. from cron)."""
    click.echo(f"Pruned {prune_events(older_than_days=older_than_days)} space events.")
