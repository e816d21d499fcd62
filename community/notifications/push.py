"""Web Push (RFC 8030) of notifications to a member's browsers, encrypted per RFC 8291
(``aes128gcm``) and signed with the platform's VAPID key (RFC 8292), through ``pywebpush``.

Which notifications: the member's push setting (``notification_settings.push``; None: their
relationship style's default, ``fling`` and ``none`` none, ``friendship`` mentions and replies,
``marriage`` all; no declared style: mentions and replies), with the same kind categories as
e-mail (``kinds.Kind.email``); none during their quiet hours (``quiet_start`` to ``quiet_end``,
hours in their ``timezone``): such a notification is not pushed later, it waits in the inbox.

When: after the commit that wrote it, off the request: a Celery task ``notifications.push`` with
``REDIS_URL``, a background task in embedded mode. Each subscription gets one POST; a 404 or
410 from the push service deletes the subscription (the browser dropped it), as does its own
``expirationTime`` passing. Delivery is best effort (a push service may drop messages anyway);
the inbox and e-mail are the record.

Native gateways (FCM, APNs) would be other senders behind :func:`send_to`; not built.
"""

from __future__ import annotations

import base64
import json
import logging
from datetime import datetime, timedelta

from celery import shared_task
from flask import current_app
from sqlalchemy import delete, select, update

from community.models import EmailLevel, Notification, NotificationSettings, PushSubscription, Thread
from community.notifications import kinds
from community.notifications.digest import _deepest, zone
from core.accounts import Account
from core.extensions import db, socketio, utcnow
from purpose.models import ContactPreference, Stakeholder

log = logging.getLogger(__name__)

STYLE_DEFAULTS = {
    ContactPreference.none: EmailLevel.none,
    ContactPreference.fling: EmailLevel.none,
    ContactPreference.friendship: EmailLevel.mentions_replies,
    ContactPreference.marriage: EmailLevel.all,
}
DEFAULT = EmailLevel.mentions_replies


def enabled(app=None) -> bool:
    return bool((app or current_app).config["VAPID_PRIVATE_KEY"])


def public_key() -> str | None:
    """The VAPID public key as browsers want it (``applicationServerKey``: base64url, uncompressed point)."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    from py_vapid import Vapid02

    key = current_app.config["VAPID_PRIVATE_KEY"]
    if not key:
        return None
    vapid = Vapid02.from_file(key) if key.lstrip().startswith("/") else Vapid02.from_string(key)
    raw = vapid.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def push_level(account_id: int) -> EmailLevel:
    """The member's own push setting, else their relationship style's default."""
    settings = db.session.get(NotificationSettings, account_id)
    if settings is not None and settings.push is not None:
        return settings.push
    style = _deepest(db.session.scalars(select(Stakeholder.contact_preference).where(
        Stakeholder.account_id == account_id, Stakeholder.contact_preference.is_not(None))))
    return STYLE_DEFAULTS[style] if style is not None else DEFAULT


def quiet(settings, now: datetime) -> bool:
    """Whether ``now`` falls in the member's quiet hours (start to end, local; may span midnight)."""
    if settings is None or settings.quiet_start is None or settings.quiet_end is None:
        return False
    hour, start, end = now.astimezone(zone(settings.timezone)).hour, settings.quiet_start, settings.quiet_end
    return start <= hour < end if start <= end else hour >= start or hour < end


def _pushed_kinds(level: EmailLevel) -> set[str]:
    wanted = {EmailLevel.none: set(), EmailLevel.mentions_replies: {"mentions_replies"},
              EmailLevel.all: {"mentions_replies", "all"}}[level]
    return {k.name for k in kinds.kinds().values() if k.email in wanted}


def message(notification: Notification) -> dict:
    """The push payload (JSON; the service worker shows it): a title, a body and where a click goes."""
    actor = db.session.get(Account, notification.actor_id) if notification.actor_id else None
    title = kinds.kind(notification.kind).summary({
        "actor_handle": actor.handle if actor else None, "count": notification.count, "data": notification.data})
    thread = db.session.get(Thread, notification.thread_id) if notification.thread_id else None
    public = current_app.config["PUBLIC_URL"]
    return {"id": notification.id, "kind": notification.kind, "title": title, "body": thread.title if thread else "",
            "url": f"{public}/client/#/threads/{thread.id}" if thread else f"{public}/client/"}


def send_to(subscription: PushSubscription, payload: dict) -> bool:
    """One encrypted push to one subscription; False if the push service said it is gone (404/410)."""
    from pywebpush import WebPushException, webpush

    cfg = current_app.config
    key = cfg["VAPID_PRIVATE_KEY"]
    try:
        webpush({"endpoint": subscription.endpoint, "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}},
                data=json.dumps(payload), vapid_private_key=key, vapid_claims={"sub": cfg["VAPID_SUBJECT"]},
                content_encoding="aes128gcm", ttl=cfg["PUSH_TTL_SECONDS"], timeout=cfg["PUSH_TIMEOUT_SECONDS"])
        return True
    except WebPushException as error:
        status = getattr(error.response, "status_code", None)
        if status in (404, 410):
            return False
        log.warning("Push to subscription %s failed: %s", subscription.id, error)
        return True
    except Exception:  # network errors: the push is lost, the subscription stays
        log.exception("Push to subscription %s failed", subscription.id)
        return True


def push_notifications(ids: list[int]) -> int:
    """Push the given notifications to their recipients' subscriptions as their settings say; returns pushes sent."""
    now, sent = utcnow(), 0
    notifications = list(db.session.scalars(select(Notification).where(
        Notification.id.in_(ids), Notification.read_at.is_(None))))
    recipients = {n.recipient_id for n in notifications}
    subscriptions: dict[int, list[PushSubscription]] = {}
    for s in db.session.scalars(select(PushSubscription).where(PushSubscription.account_id.in_(recipients))):
        subscriptions.setdefault(s.account_id, []).append(s)
    allowed: dict[int, set[str]] = {}
    for n in notifications:
        mine = subscriptions.get(n.recipient_id)
        if not mine:
            continue
        if n.recipient_id not in allowed:  # quiet hours were applied at the commit (after_commit)
            allowed[n.recipient_id] = _pushed_kinds(push_level(n.recipient_id))
        if n.kind not in allowed[n.recipient_id]:
            continue
        payload = message(n)
        db.session.commit()  # no transaction open while push services answer
        for subscription in mine:
            if subscription.expires_at is not None and subscription.expires_at <= now:
                db.session.execute(delete(PushSubscription).where(PushSubscription.id == subscription.id))
            elif send_to(subscription, payload):
                sent += 1
                db.session.execute(update(PushSubscription).where(PushSubscription.id == subscription.id)
                                   .values(last_sent_at=now))
            else:  # the push service says the browser dropped it
                db.session.execute(delete(PushSubscription).where(PushSubscription.id == subscription.id))
            db.session.commit()
        subscriptions[n.recipient_id] = [s for s in mine if db.session.get(PushSubscription, s.id) is not None]
    return sent


@shared_task(name="notifications.push", acks_late=True)
def push_task(ids: list[int]) -> int:
    return push_notifications(ids)


def _outside_quiet_hours(ids: list[int], now: datetime) -> list[int]:
    """The notifications whose recipients are not in their quiet hours now (decided at the commit,
    so a push that waits for a worker still follows the hours the member had when it happened)."""
    S = NotificationSettings.__table__
    N = Notification.__table__
    rows = db.session.execute(select(N.c.id, S.c.quiet_start, S.c.quiet_end, S.c.timezone)
                              .select_from(N.outerjoin(S, S.c.account_id == N.c.recipient_id)).where(N.c.id.in_(ids)))
    return [r.id for r in rows if not quiet(r, now)]


def after_commit(app, ids: list[int]) -> None:
    """After the commit that wrote these notifications: push them, off the request."""
    if not enabled(app) or not ids:
        return
    ids = _outside_quiet_hours(ids, utcnow())
    if not ids:
        return
    if app.config.get("REDIS_URL"):
        push_task.apply_async(args=[list(ids)])
    else:
        socketio.start_background_task(_push_later, app, list(ids))


def _push_later(app, ids: list[int]) -> None:
    with app.app_context():
        try:
            push_notifications(ids)
        except Exception:
            log.exception("Pushing notifications %s failed", ids)
        finally:
            db.session.remove()


# Subscriptions ------------------------------------------------------------------------------


def subscribe(account: Account, endpoint: str, p256dh: str, auth: str, expires_at: datetime | None) -> PushSubscription:
    """Store (or move to this member, or refresh) the browser's subscription; a member keeps at most
    ``PUSH_MAX_SUBSCRIPTIONS``, the oldest going first."""
    subscription = db.session.scalar(select(PushSubscription).where(PushSubscription.endpoint == endpoint))
    if subscription is None:
        subscription = PushSubscription(endpoint=endpoint, created_at=utcnow())
        db.session.add(subscription)
    subscription.account_id, subscription.p256dh, subscription.auth = account.id, p256dh, auth
    subscription.expires_at = expires_at
    db.session.flush()
    keep = current_app.config["PUSH_MAX_SUBSCRIPTIONS"]
    older = list(db.session.scalars(select(PushSubscription.id).where(PushSubscription.account_id == account.id)
                                    .order_by(PushSubscription.created_at.desc(), PushSubscription.id.desc()).offset(keep)))
    if older:
        db.session.execute(delete(PushSubscription).where(PushSubscription.id.in_(older)))
    return subscription


def unsubscribe(account: Account, endpoint: str) -> bool:
    return bool(db.session.execute(delete(PushSubscription).where(
        PushSubscription.account_id == account.id, PushSubscription.endpoint == endpoint)).rowcount)


def expiry(expiration_ms: int | None) -> datetime | None:
    if expiration_ms is None:
        return None
    from datetime import timezone

    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=expiration_ms)
