"""Granting and revoking badges, the recognition job, exports and erasure; ``init_recognition``.

Every grant (automatic or manual) notifies the member (kind ``badge``) in the grant's transaction.
Actions never commit; the job commits once at its end (a CLI command, a Celery task or a background
task is its own boundary).

The job (``run_recognition``): ensure the platform badges of every registered rule exist, grant each
rule's tiers with one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` per tier (the grants' unique
key makes it idempotent, even run twice at once), then recompute trust levels. It runs from the
Celery task ``recognition.run`` (with ``REDIS_URL``: a worker schedules it every
``RECOGNITION_INTERVAL_SECONDS``), from a background task in embedded mode (same interval), and from
``flask grant-badges``.
"""

from __future__ import annotations

import click
from celery import shared_task
from flask.cli import with_appcontext
from sqlalchemy import exists, func, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from community.models import Membership, Space
from community.moderation.audit import audit
from community.notifications import kinds, service as notifications
from core.accounts import Account, AccountStatus
from core.errors import conflict, not_found
from core.extensions import db, utcnow
from core.schedule import every
from purpose.access import require_brand_manager
from purpose.models import Purpose
from purpose.people import Activity, register_activity_source
from purpose.privacy import account_erasing, register_export_source
from recognition import rules as rule_registry, trust
from recognition.models import Badge, BadgeGrant, BadgeTier


BADGE = kinds.register_kind("badge", lambda n: f"You earned the badge {(n.get('data') or {}).get('name', '')}",
                            email=None, personal=False)


def _insert(model):
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


# ---- the catalogue ---------------------------------------------------------------------------------

def platform_badge(key: str, tier: BadgeTier, name: str, description: str) -> int:
    """The id of a platform badge, made if missing (concurrent makers agree on one row)."""
    where = (Badge.key == key, Badge.tier == tier, Badge.brand_id.is_(None))
    badge_id = db.session.scalar(select(Badge.id).where(*where))
    if badge_id is None:
        db.session.execute(_insert(Badge).values(key=key, tier=tier, name=name, description=description, automatic=True,
                                                 created_at=utcnow())
                           .on_conflict_do_nothing(index_elements=["key", "tier"], index_where=Badge.brand_id.is_(None)))
        badge_id = db.session.scalar(select(Badge.id).where(*where))
    return badge_id


def create_brand_badge(actor: Account, brand_id: int, *, key: str, name: str, description: str, tier: BadgeTier) -> Badge:
    require_brand_manager(actor, brand_id)
    if db.session.scalar(select(Badge.id).where(Badge.brand_id == brand_id, Badge.key == key, Badge.tier == tier)):
        raise conflict("This brand has a badge with this key and tier already.", "badge-exists")
    badge = Badge(key=key, name=name, description=description, tier=tier, automatic=False, brand_id=brand_id)
    db.session.add(badge)
    db.session.flush()
    return badge


# ---- grants ----------------------------------------------------------------------------------------

def _tell(account_id: int, badge: Badge | dict, actor: Account | None, reason: str) -> None:
    info = badge if isinstance(badge, dict) else {"key": badge.key, "name": badge.name, "tier": badge.tier.value,
                                                   "badge_id": badge.id, "brand_id": badge.brand_id}
    notifications.notify(account_id, BADGE, actor=actor, data={**info, "reason": reason})


def _grant(account_id: int, badge: Badge, *, by: Account | None, reason: str) -> BadgeGrant | None:
    """Insert the grant unless the account holds the badge already (None then); notify the member."""
    new_id = db.session.execute(_insert(BadgeGrant).values(
        account_id=account_id, badge_id=badge.id, granted_at=utcnow(), granted_by=by.id if by else None, reason=reason,
    ).on_conflict_do_nothing(index_elements=["account_id", "badge_id"]).returning(BadgeGrant.id)).scalar()
    if new_id is None:
        return None
    _tell(account_id, badge, by, reason)
    return db.session.get(BadgeGrant, new_id)


def award(account_id: int, badge_key: str, *, reason: str, by: Account | None = None,
          tier: BadgeTier = BadgeTier.bronze) -> BadgeGrant | None:
    """Grant a platform badge by code (an ideas wing: ``idea_shipped``); None when already held."""
    known = {(k, t): (n, d) for k, t, n, d in rule_registry.CODE_BADGES}
    name, description = known.get((badge_key, tier), (badge_key.replace("_", " ").capitalize(), ""))
    badge = db.session.get(Badge, platform_badge(badge_key, tier, name, description))
    if db.session.get(Account, account_id) is None:
        raise not_found("account")
    return _grant(account_id, badge, by=by, reason=reason)


def on_idea_shipped(sender, account_id: int, idea_id: int, **_) -> None:
    """Blinker receiver for the ideas wing's "idea shipped" signal (sent after the status change
    commits, so this is a boundary of its own and commits): the author gets ``idea_shipped``."""
    award(account_id, "idea_shipped", reason=f"idea {idea_id} shipped")
    db.session.commit()


def award_manual(actor: Account, badge_id: int, account_id: int, reason: str) -> BadgeGrant:
    """A brand's manager awards one of the brand's manual badges, with a reason; audited."""
    badge = db.session.get(Badge, badge_id)
    if badge is None:
        raise not_found("badge")
    if badge.automatic or badge.brand_id is None:
        raise conflict("Automatic badges are granted by their rules, not by hand.", "badge-automatic")
    require_brand_manager(actor, badge.brand_id)
    member = db.session.get(Account, account_id)
    if member is None or member.status is not AccountStatus.active:
        raise not_found("account")
    grant = _grant(account_id, badge, by=actor, reason=reason)
    if grant is None:
        raise conflict("This member holds this badge already.", "badge-held")
    audit(actor, "badge_awarded", "account", account_id, brand_id=badge.brand_id, reason=reason,
          after={"badge_id": badge.id, "key": badge.key, "tier": badge.tier.value, "grant_id": grant.id})
    return grant


def revoke_manual(actor: Account, grant_id: int, reason: str) -> None:
    """A brand's manager takes back a manual badge of the brand, with a reason; audited."""
    grant = db.session.get(BadgeGrant, grant_id)
    badge = db.session.get(Badge, grant.badge_id) if grant is not None else None
    if grant is None or badge.brand_id is None:
        raise not_found("badge grant")
    require_brand_manager(actor, badge.brand_id)
    audit(actor, "badge_revoked", "account", grant.account_id, brand_id=badge.brand_id, reason=reason,
          before={"badge_id": badge.id, "key": badge.key, "tier": badge.tier.value, "grant_id": grant.id,
                  "granted_by": grant.granted_by, "granted_at": grant.granted_at.isoformat()})
    db.session.delete(grant)


def badges_of(account_id: int) -> list[tuple[BadgeGrant, Badge]]:
    return list(db.session.execute(select(BadgeGrant, Badge).join(Badge, Badge.id == BadgeGrant.badge_id)
                                   .where(BadgeGrant.account_id == account_id)
                                   .order_by(BadgeGrant.granted_at, BadgeGrant.id)).all())


# ---- the job ---------------------------------------------------------------------------------------

def grant_badges() -> int:
    """Grant every rule's badges to the accounts that now qualify; returns how many grants were made."""
    made = 0
    for rule in rule_registry.rules():
        for tier, threshold in rule.tiers:
            badge = db.session.get(Badge, platform_badge(rule.key, tier, rule.name,
                                                         rule.description.format(n=threshold)))
            qualifying = rule.qualifying(threshold).subquery()
            who = qualifying.c[0]
            candidates = select(who, literal(badge.id), literal(utcnow(), BadgeGrant.granted_at.type), literal("")).distinct().where(
                exists().where(Account.id == who, Account.status == AccountStatus.active),
                ~exists().where(BadgeGrant.account_id == who, BadgeGrant.badge_id == badge.id),
            )
            stmt = (_insert(BadgeGrant).from_select(["account_id", "badge_id", "granted_at", "reason"], candidates)
                    .on_conflict_do_nothing(index_elements=["account_id", "badge_id"]).returning(BadgeGrant.account_id))
            info = {"key": badge.key, "name": badge.name, "tier": badge.tier.value, "badge_id": badge.id, "brand_id": None,
                    "reason": badge.description}
            granted = db.session.scalars(stmt).all()
            made += notifications.notify_many(BADGE, list(granted), data=info)  # one INSERT for the tier's notices
    return made


def run_recognition() -> dict:
    """The whole job in one transaction, committed here: badges, then trust levels."""
    try:
        granted = grant_badges()
        changed = trust.recompute_trust_levels()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return {"granted": granted, "trust_levels_changed": len(changed)}


@shared_task(name="recognition.run", acks_late=True)
def run_recognition_task() -> dict:
    return run_recognition()


@click.command("grant-badges")
@with_appcontext
def grant_badges_command() -> None:
    """Grant the automatic badges now due and recompute trust levels (safe beside workers; idempotent)."""
    result = run_recognition()
    click.echo(f"granted {result['granted']} badge(s); {result['trust_levels_changed']} trust level(s) changed")


def start_schedule(app) -> None:
    """Run the job now and every ``RECOGNITION_INTERVAL_SECONDS`` (0: never): in embedded mode in this process,
    with ``REDIS_URL`` by queueing the Celery task (each worker queues; runs are idempotent)."""
    if app.config["RECOGNITION_INTERVAL_SECONDS"] > 0:  # a first run at start: accounts that predate the levels get theirs
        every(app, "RECOGNITION_INTERVAL_SECONDS",
              run_recognition_task.delay if app.config.get("REDIS_URL") else run_recognition, "The recognition job")


# ---- exports and erasure ---------------------------------------------------------------------------

def export_account_badges(account_id: int) -> tuple[str, dict]:
    held = [{"badge": b.key, "name": b.name, "tier": b.tier.value, "brand_id": b.brand_id, "granted_at": g.granted_at.isoformat(),
             "reason": g.reason, "granted_by": g.granted_by} for g, b in badges_of(account_id)]
    given = db.session.execute(select(BadgeGrant.id, BadgeGrant.account_id, Badge.key, BadgeGrant.granted_at)
                               .join(Badge, Badge.id == BadgeGrant.badge_id).where(BadgeGrant.granted_by == account_id)
                               .order_by(BadgeGrant.id)).all()
    account = db.session.get(Account, account_id)
    return "recognition", {
        "trust_level": account.trust_level if account else None,
        "trust_level_locked": account.trust_level_locked if account else None,
        "badges": held,
        "badges_awarded": [{"grant_id": i, "account_id": a, "badge": k, "granted_at": t.isoformat()} for i, a, k, t in given],
    }


def erase_account_badges(account_id: int) -> None:
    """In the erasure's transaction: the account's grants go, and it is forgotten as an awarder."""
    db.session.execute(db.delete(BadgeGrant).where(BadgeGrant.account_id == account_id))
    db.session.execute(db.update(BadgeGrant).where(BadgeGrant.granted_by == account_id).values(granted_by=None))
    db.session.execute(db.update(Account).where(Account.id == account_id).values(trust_level=0, trust_level_locked=False)
                       .execution_options(synchronize_session=False))


# ---- the pyramid -----------------------------------------------------------------------------------

#: Automatic badges derived from what the community source already counts as recognition (posts,
#: reactions received): counting them again would count one reaction twice.
_ALREADY_COUNTED = ("first_post", "well_received")


def badge_activity(brand_id: int, purpose_id: int | None) -> dict[int, Activity]:
    """Badges as recognition (``purpose.people``'s activity source): for the members of the brand's
    spaces (one purpose's, when given), each badge of this brand they hold and each platform badge
    not derived from counted activity (events attended, a year here, an idea shipped) counts one."""
    spaces = select(Space.id).join(Purpose, Purpose.id == Space.purpose_id).where(Purpose.brand_id == brand_id)
    if purpose_id is not None:
        spaces = spaces.where(Space.purpose_id == purpose_id)
    in_scope = exists().where(Membership.account_id == BadgeGrant.account_id, Membership.space_id.in_(spaces.scalar_subquery()))
    counts = db.session.execute(
        select(BadgeGrant.account_id, func.count(BadgeGrant.id)).join(Badge, Badge.id == BadgeGrant.badge_id)
        .where(in_scope, or_(Badge.brand_id == brand_id, Badge.brand_id.is_(None) & Badge.key.not_in(_ALREADY_COUNTED)))
        .group_by(BadgeGrant.account_id))
    return {account_id: Activity(recognitions_received=n) for account_id, n in counts}


def init_recognition() -> None:
    """Called by ``create_app``: the built-in rules, exports and erasure, badges as recognition (idempotent)."""
    rule_registry.register_builtin_rules()
    register_activity_source(badge_activity)
    register_export_source(account_source=export_account_badges)
    account_erasing.connect(erase_account_badges)
