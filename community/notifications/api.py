"""REST views of the inbox and of levels (docs/api.md, "Notifications")."""

from __future__ import annotations

from sqlalchemy import select

from community import access
from community.models import DigestFrequency, EmailLevel, Notification, NotificationSettings
from community.notifications import digest, mail, push, service
from community.notifications.schemas import (
    PushEndpointArgs, PushSettingsArgs, PushSettingsOut, PushSubscriptionArgs, PushSubscriptionList,
    PushSubscriptionOut, VapidKeyOut, DigestSettingsArgs, DigestSettingsOut, EmailSettingsArgs, EmailSettingsOut, LevelArgs, LevelOut, MarkAllArgs, MarkedOut, NotificationListArgs,
    NotificationOut, NotificationPage, UnreadOut, UnsubscribeArgs, UnsubscribedOut,
)
from core.auth import authenticated, current_account, limit_writes
from core.accounts import Account
from core.errors import ApiBlueprint, not_found
from core.extensions import db
from core.pagination import SortKey, keyset_page

blp = limit_writes(ApiBlueprint("notifications", __name__, url_prefix="/api/v1", description="Your notifications"))


@blp.route("/notifications", methods=["GET"])
@authenticated
@blp.arguments(NotificationListArgs, location="query")
@blp.response(200, NotificationPage)
def list_notifications(args):
    """Your notifications, newest first; with `after`, those newer than an id, oldest first."""
    account = current_account()
    stmt = select(Notification).where(service.inbox_clause(account))
    if args["unread"]:
        stmt = stmt.where(Notification.read_at.is_(None))
    if args["after"] is not None:
        stmt = stmt.where(service.missed_clause(account, args["after"]))
        keys, scope = [SortKey(Notification.id)], f"notifications-after-{args['unread']}-{args['after']}"
    else:
        keys, scope = [SortKey(Notification.id, descending=True)], f"notifications-{args['unread']}"
    return keyset_page(stmt, keys, scope=scope, args=args, attrs=["id"])


@blp.route("/notifications/unread-count", methods=["GET"])
@authenticated
@blp.response(200, UnreadOut)
def unread_count():
    """How many of your notifications are unread."""
    return {"unread": service.unread_count(current_account())}


@blp.route("/notifications/<id:notification_id>/read", methods=["POST"])
@authenticated
@blp.response(200, NotificationOut)
def mark_read(notification_id):
    """Mark one notification read (harmless when it already is)."""
    account = current_account()
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.recipient_id != account.id:
        raise not_found("notification")
    service.mark_read(account, notification_id)
    db.session.refresh(notification)
    return notification


@blp.route("/notifications/read", methods=["POST"])
@authenticated
@blp.arguments(MarkAllArgs)
@blp.response(200, MarkedOut)
def mark_all_read(args):
    """Mark all your notifications read (or all up to an id)."""
    account = current_account()
    marked = service.mark_read(account, up_to=args["up_to"])
    return {"marked": marked, "unread": service.unread_count(account)}


@blp.route("/spaces/<id:space_id>/notification-level", methods=["GET"])
@authenticated
@blp.response(200, LevelOut)
def get_space_level(space_id):
    """Your level for a space: watching, tracking, normal (the default) or muted."""
    account = current_account()
    space = access.visible_space(account, space_id)
    level, chosen = service.space_level(account.id, space.id)
    return {"level": level, "chosen": chosen}


@blp.route("/spaces/<id:space_id>/notification-level", methods=["PUT"])
@authenticated
@blp.arguments(LevelArgs)
@blp.response(200, LevelOut)
def put_space_level(args, space_id):
    """Choose your level for a space you can see."""
    account = current_account()
    space = access.visible_space(account, space_id)
    service.set_space_level(account, space, args["level"])
    return {"level": args["level"], "chosen": True}


@blp.route("/threads/<id:thread_id>/notification-level", methods=["GET"])
@authenticated
@blp.response(200, LevelOut)
def get_thread_level(thread_id):
    """Your level for a thread: its own, or the space's (watching a space watches its threads)."""
    account = current_account()
    thread, _space = access.visible_thread(account, thread_id)
    level, chosen = service.thread_level(account.id, thread)
    return {"level": level, "chosen": chosen}


@blp.route("/threads/<id:thread_id>/notification-level", methods=["PUT"])
@authenticated
@blp.arguments(LevelArgs)
@blp.response(200, LevelOut)
def put_thread_level(args, thread_id):
    """Choose your level for a thread you can see."""
    account = current_account()
    thread, _space = access.visible_thread(account, thread_id)
    service.set_thread_level(account, thread, args["level"])
    return {"level": args["level"], "chosen": True}


# E-mail settings and one-click unsubscribe (RFC 8058) -------------------------------------------


@blp.route("/me/notification-settings", methods=["GET"])
@authenticated
@blp.response(200, EmailSettingsOut)
def get_settings():
    """Your e-mail setting for notifications (null: the default for your relationship style) and the one in effect."""
    account = current_account()
    settings = db.session.get(NotificationSettings, account.id)
    return {"email": settings.email if settings else None, "effective": mail.email_level(account.id)}


@blp.route("/me/notification-settings", methods=["PUT"])
@authenticated
@blp.arguments(EmailSettingsArgs)
@blp.response(200, EmailSettingsOut)
def put_settings(args):
    """Choose which notifications are e-mailed to you when you have not read them in time."""
    account = current_account()
    mail.set_email_level(account, args["email"])
    db.session.flush()
    return {"email": args["email"], "effective": mail.email_level(account.id)}


def _digest_out(account: Account) -> dict:
    from flask import current_app

    settings = db.session.get(NotificationSettings, account.id)
    hour = settings.digest_hour if settings else None
    return {"digest": settings.digest if settings else None, "effective": digest.effective_for(account.id),
            "timezone": settings.timezone if settings else None, "hour": hour,
            "effective_hour": current_app.config["NOTIFICATION_DIGEST_HOUR"] if hour is None else hour,
            "last_digest_at": settings.last_digest_at if settings else None}


@blp.route("/me/digest-settings", methods=["GET"])
@authenticated
@blp.response(200, DigestSettingsOut)
def get_digest_settings():
    """Your digest e-mail: how often (null: the default for your relationship style), your time zone and hour."""
    return _digest_out(current_account())


@blp.route("/me/digest-settings", methods=["PUT"])
@authenticated
@blp.arguments(DigestSettingsArgs)
@blp.response(200, DigestSettingsOut)
def put_digest_settings(args):
    """Change your digest settings (the fields you send; the others stay)."""
    account = current_account()
    names = {"digest": "digest", "timezone": "timezone", "hour": "digest_hour"}
    digest.save_settings(account, **{names[k]: v for k, v in args.items()})
    db.session.flush()
    return _digest_out(account)


def _token_account(args) -> Account:
    account_id = mail.account_of_token(args["token"])
    account = db.session.get(Account, account_id) if account_id is not None else None
    if account is None:
        raise not_found("unsubscribe link")  # forged, altered, or its account erased
    return account


@blp.route("/notifications/unsubscribe", methods=["GET"])
@blp.arguments(UnsubscribeArgs, location="query")
@blp.response(200, UnsubscribedOut)
def unsubscribe_page(args):
    """What the link in a notification e-mail does (nothing changes on GET: link scanners follow links)."""
    account = _token_account(args)
    return {"email": mail.email_level(account.id), "unsubscribed": False}


@blp.route("/notifications/unsubscribe", methods=["POST"])
@blp.arguments(UnsubscribeArgs, location="query")
@blp.response(200, UnsubscribedOut)
def unsubscribe(args):
    """One-click unsubscribe (RFC 8058): the mail client POSTs `List-Unsubscribe=One-Click` to the
    link of the `List-Unsubscribe` header; no sign-in, the signed token names the account."""
    account = _token_account(args)
    mail.set_email_level(account, EmailLevel.none)
    digest.save_settings(account, digest=DigestFrequency.none)  # digests carry the same link
    return {"email": EmailLevel.none, "unsubscribed": True}


# Web Push (docs/notifications.md, "Web Push") ------------------------------------------------------


@blp.route("/push/vapid-public-key", methods=["GET"])
@blp.response(200, VapidKeyOut)
def vapid_public_key():
    """The server's VAPID public key, for `pushManager.subscribe({applicationServerKey})`."""
    return {"public_key": push.public_key()}


@blp.route("/me/push-subscriptions", methods=["GET"])
@authenticated
@blp.response(200, PushSubscriptionList)
def list_push_subscriptions():
    """Your browsers' push subscriptions."""
    from community.models import PushSubscription

    return {"items": list(db.session.scalars(select(PushSubscription).where(
        PushSubscription.account_id == current_account().id).order_by(PushSubscription.id)))}


@blp.route("/me/push-subscriptions", methods=["POST"])
@authenticated
@blp.arguments(PushSubscriptionArgs)
@blp.response(201, PushSubscriptionOut)
def add_push_subscription(args):
    """Store this browser's push subscription (`PushSubscription.toJSON()`); the same endpoint again updates it."""
    return push.subscribe(current_account(), args["endpoint"], args["keys"]["p256dh"], args["keys"]["auth"],
                          push.expiry(args["expirationTime"]))


@blp.route("/me/push-subscriptions", methods=["DELETE"])
@authenticated
@blp.arguments(PushEndpointArgs)
@blp.response(204)
def delete_push_subscription(args):
    """Forget this browser's subscription (harmless if it is not stored)."""
    push.unsubscribe(current_account(), args["endpoint"])


def _push_out(account: Account) -> dict:
    settings = db.session.get(NotificationSettings, account.id)
    return {"push": settings.push if settings else None, "effective": push.push_level(account.id),
            "quiet_start": settings.quiet_start if settings else None,
            "quiet_end": settings.quiet_end if settings else None}


@blp.route("/me/push-settings", methods=["GET"])
@authenticated
@blp.response(200, PushSettingsOut)
def get_push_settings():
    """Which notifications are pushed to your browsers (null: your relationship style's default), and quiet hours."""
    return _push_out(current_account())


@blp.route("/me/push-settings", methods=["PUT"])
@authenticated
@blp.arguments(PushSettingsArgs)
@blp.response(200, PushSettingsOut)
def put_push_settings(args):
    """Change your push settings (the fields you send; the others stay)."""
    account = current_account()
    digest.save_settings(account, **args)
    db.session.flush()
    return _push_out(account)
