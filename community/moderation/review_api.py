"""REST views for reading moderation: the review queues and the audit logs (docs/moderation.md).

Space staff read their space's; the brand's managers their brand's; admins everything.
"""

from __future__ import annotations

from community import access
from community.models import AuditEntry
from community.moderation.audit import audit_query, brand_space_ids, direct_space_ids, review_queue, with_context
from community.moderation.schemas import AuditListArgs, AuditPage, DirectQueuePage, QueuePage
from community.schemas import reaction_summaries
from core.auth import authenticated, current_account, limit_writes, require_admin
from core.errors import ApiBlueprint, not_found
from core.extensions import db
from core.pagination import SortKey, keyset_page, list_page
from core.validation import PageArgs
from purpose.access import require_brand_manager
from purpose.models import Brand

blp = limit_writes(ApiBlueprint("moderation-review", __name__, url_prefix="/api/v1", description="Review queues and audit logs"))


def _staff_space(space_id):
    space = access.community_space(current_account(), space_id)
    access.require_staff(current_account(), space)
    return space


def _queue_page(items, scope, args, *, context: bool = False):
    page = list_page(items, key=lambda item: item.order_key, scope=scope, args=args)
    if context:
        with_context(page["items"])
    posts = [post for item in page["items"]
             for post in (item.post, *getattr(item, "context_before", ()), *getattr(item, "context_after", ()))]
    summaries = reaction_summaries([post.id for post in posts], current_account().id)
    for post in posts:
        post.reaction_summary = summaries[post.id]
    return page


@blp.route("/spaces/<id:space_id>/moderation/queue", methods=["GET"])
@authenticated
@blp.arguments(PageArgs, location="query")
@blp.response(200, QueuePage)
def space_queue(args, space_id):
    """Posts with pending flags or appeals in a space, oldest first (staff)."""
    space = access.community_space(current_account(), space_id)
    access.require_staff(current_account(), space)
    return _queue_page(review_queue([space.id]), f"mod-queue:{space.id}", args)


@blp.route("/brands/<id:brand_id>/moderation/queue", methods=["GET"])
@authenticated
@blp.arguments(PageArgs, location="query")
@blp.response(200, QueuePage)
def brand_queue(args, brand_id):
    """The review queue of every space of a brand, oldest first (the brand's managers, admins)."""
    brand = _brand(brand_id)
    return _queue_page(review_queue(brand_space_ids(brand.id)), f"brand-queue:{brand.id}", args)


@blp.route("/moderation/conversations/queue", methods=["GET"])
@require_admin
@blp.arguments(PageArgs, location="query")
@blp.response(200, DirectQueuePage)
def direct_queue(args):
    """Flagged (or appealed) messages of direct conversations, oldest first, each with up to 5
    messages before and after it (admins). Nothing else of a conversation is ever shown to staff;
    the flagged message itself can then be hidden, removed or its flags dismissed as any post."""
    return _queue_page(review_queue(direct_space_ids()), "direct-queue", args, context=True)


# Audit logs -------------------------------------------------------------------------------


def _audit_page(stmt, args, scope):
    if args.get("action"):
        stmt = stmt.where(AuditEntry.action == args["action"])
        scope += f":{args['action']}"
    return keyset_page(stmt, [SortKey(AuditEntry.id, True)], scope=scope, args=args, attrs=["id"])


def _brand(brand_id):
    brand = db.session.get(Brand, brand_id)
    if brand is None:
        raise not_found("brand")
    require_brand_manager(current_account(), brand.id)
    return brand


@blp.route("/spaces/<id:space_id>/moderation/audit", methods=["GET"])
@authenticated
@blp.arguments(AuditListArgs, location="query")
@blp.response(200, AuditPage)
def space_audit(args, space_id):
    """The space's moderation log, newest first (staff)."""
    space = _staff_space(space_id)
    return _audit_page(audit_query(space_id=space.id), args, f"audit-space:{space.id}")


@blp.route("/brands/<id:brand_id>/moderation/audit", methods=["GET"])
@authenticated
@blp.arguments(AuditListArgs, location="query")
@blp.response(200, AuditPage)
def brand_audit(args, brand_id):
    """Every moderation action in the brand's spaces, newest first (the brand's managers, admins)."""
    brand = _brand(brand_id)
    return _audit_page(audit_query(brand_id=brand.id), args, f"audit-brand:{brand.id}")


@blp.route("/moderation/audit", methods=["GET"])
@require_admin
@blp.arguments(AuditListArgs, location="query")
@blp.response(200, AuditPage)
def platform_audit(args):
    """The whole moderation log, suspensions included, newest first (admins)."""
    return _audit_page(audit_query(), args, "audit-all")
