"""Personal calendar feed links: a member's signed address of a space's events (.ics) for calendar apps.

Calendar apps fetch a feed without signing in, so the address itself is the credential. It carries
``{"a": account id, "s": space id, "n": nonce}`` signed with ``SECRET_KEY`` (itsdangerous, salt
``calendar-feed``, no expiry: subscriptions poll for years); the nonce is the member's one row for the
space (``event_calendar_feeds``). At every read the row must still hold that nonce, the account must be
active and must still see the space (``community.access.can_see``): a member who leaves a private space,
is removed from it or suspended gets 404 from the old address at once. Asking for a new link replaces the
nonce (rotation: the old address stops working); deleting it revokes the address.
"""

from __future__ import annotations

import secrets

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from community.access import can_see
from community.models import Space
from core.accounts import Account, AccountStatus
from core.errors import ApiError, not_found
from core.extensions import db, utcnow
from events.models import CalendarFeed

_SALT = "calendar-feed"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def feed_url(feed: CalendarFeed) -> str:
    token = _serializer().dumps({"a": feed.account_id, "s": feed.space_id, "n": feed.nonce})
    return f"{current_app.config['PUBLIC_URL']}/api/v1/calendar-feeds/{token}/events.ics"


def out(feed: CalendarFeed) -> dict:
    return {"space_id": feed.space_id, "url": feed_url(feed), "created_at": feed.created_at}


def _insert():
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(CalendarFeed)


def do_new_feed(account: Account, space: Space) -> CalendarFeed:
    """A new personal feed address for a space ``account`` sees (the caller checked); replaces any older one."""
    values = {"nonce": secrets.token_urlsafe(16), "created_at": utcnow()}
    db.session.execute(_insert().values(account_id=account.id, space_id=space.id, **values)
                       .on_conflict_do_update(index_elements=["account_id", "space_id"], set_=values))
    return my_feed(account, space)


def my_feed(account: Account, space: Space) -> CalendarFeed:
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.account_id == account.id,
                                                        CalendarFeed.space_id == space.id)
                             .execution_options(populate_existing=True))
    if feed is None:
        raise not_found("calendar feed")
    return feed


def do_revoke_feed(account: Account, space: Space) -> None:
    gone = db.session.execute(delete(CalendarFeed).where(CalendarFeed.account_id == account.id,
                                                         CalendarFeed.space_id == space.id)).rowcount
    if not gone:
        raise not_found("calendar feed")


def _unknown() -> ApiError:
    return ApiError(404, "This calendar address is not valid (any more): it was replaced or revoked, or its owner "
                         "can no longer see the space. Get a new one in the space's events.", type_="unknown-calendar-feed")


def space_of_feed(token: str) -> Space:
    """The space a feed address names, if it is still valid for its owner (checked now)."""
    try:
        claims = _serializer().loads(token)
        account_id, space_id, nonce = int(claims["a"]), int(claims["s"]), str(claims["n"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise _unknown() from None
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.account_id == account_id,
                                                        CalendarFeed.space_id == space_id))
    if feed is None or not secrets.compare_digest(feed.nonce, nonce):
        raise _unknown()
    account, space = db.session.get(Account, account_id), db.session.get(Space, space_id)
    if account is None or space is None or account.status is not AccountStatus.active or not can_see(account, space):
        raise _unknown()
    return space


def export_feeds(account_id: int) -> list[dict]:
    return [{"space_id": s, "created_at": t.isoformat()} for s, t in db.session.execute(
        select(CalendarFeed.space_id, CalendarFeed.created_at).where(CalendarFeed.account_id == account_id)
        .order_by(CalendarFeed.id))]


def erase_feeds(account_id: int) -> None:
    db.session.execute(delete(CalendarFeed).where(CalendarFeed.account_id == account_id))
