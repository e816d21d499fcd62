"""Each member's community activity for a brand (or one purpose's spaces), for relationship profiles.

Registered with ``purpose.people`` at start-up: the brand layer counts posts and recognition
without importing the community layer. Rows are streamed as the driver's plain tuples.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import aliased

from community.conversations import service
from community.models import Membership, Mention, Post, Reaction, Space
from core.accounts import Account
from core.extensions import db
from core.rows import plain_rows, utc
from purpose.models import Purpose, Stakeholder
from purpose.people import Activity, register_activity_source
from purpose.privacy import account_erasing, register_export_source


def _spaces(brand_id: int, purpose_id: int | None, *columns):
    stmt = select(*(columns or (Space.id,))).join(Purpose, Purpose.id == Space.purpose_id).where(Purpose.brand_id == brand_id)
    return stmt.where(Space.purpose_id == purpose_id) if purpose_id is not None else stmt


def activity_by_account(brand_id: int, purpose_id: int | None) -> dict[int, Activity]:
    """Memberships, posts, reactions given, and recognition received (replies, reactions, mentions by others)."""
    purpose_of = dict(db.session.execute(_spaces(brand_id, purpose_id, Space.id, Space.purpose_id)).all())
    spaces = _spaces(brand_id, purpose_id).scalar_subquery()
    out: dict[int, Activity] = {}

    def of(account_id: int) -> Activity:
        activity = out.get(account_id)
        if activity is None:  # not setdefault: that would build an Activity (and its Counter) per row
            activity = out[account_id] = Activity()
        return activity

    for account_id, joined_at in plain_rows(select(Membership.account_id, Membership.joined_at).where(Membership.space_id.in_(spaces))):
        of(account_id).times.append(utc(joined_at))  # joining counts as a contact (and puts members in scope)
    live_posts = (Post.space_id.in_(spaces), Post.deleted.is_(False))
    for author_id, created_at, space_id in plain_rows(select(Post.author_id, Post.created_at, Post.space_id).where(*live_posts)):
        a = of(author_id)
        a.posts += 1
        a.interactions[purpose_of[space_id]] += 1
        a.times.append(utc(created_at))
    parent = aliased(Post)
    replies = select(parent.author_id).join(Post, Post.parent_id == parent.id).where(
        *live_posts, Post.author_id != parent.author_id)
    reactions = select(Post.author_id, Reaction.account_id, Reaction.created_at, Post.space_id).join(
        Reaction, Reaction.post_id == Post.id).where(*live_posts)
    mentions = select(Mention.account_id).join(Post, Post.id == Mention.post_id).where(
        *live_posts, Mention.account_id != Post.author_id)
    for (author_id,) in plain_rows(replies):
        of(author_id).recognitions_received += 1
    for author_id, reactor_id, created_at, space_id in plain_rows(reactions):
        reactor = of(reactor_id)
        reactor.interactions[purpose_of[space_id]] += 1
        reactor.times.append(utc(created_at))
        if reactor_id != author_id:
            of(author_id).recognitions_received += 1
    for (account_id,) in plain_rows(mentions):
        of(account_id).recognitions_received += 1
    return out


def _plain(row) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else getattr(v, "value", v)) for k, v in row._mapping.items()}


def community_record(account_id: int, spaces=None) -> dict:
    """The account's memberships, posts and reactions (in ``spaces``, a subquery, or everywhere)."""
    where = (lambda column: column.in_(spaces)) if spaces is not None else (lambda column: True)  # noqa: E731
    posts = select(Post.id, Post.space_id, Post.thread_id, Post.parent_id, Post.body, Post.created_at, Post.edited_at,
                   Post.deleted).where(Post.author_id == account_id, where(Post.space_id)).order_by(Post.id)
    reactions = select(Reaction.post_id, Reaction.emoji, Reaction.created_at).join(Post, Post.id == Reaction.post_id).where(
        Reaction.account_id == account_id, where(Post.space_id)).order_by(Reaction.id)
    memberships = select(Membership.space_id, Membership.role, Membership.joined_at).where(
        Membership.account_id == account_id, where(Membership.space_id)).order_by(Membership.space_id)
    return {name: [_plain(r) for r in db.session.execute(stmt)]
            for name, stmt in (("memberships", memberships), ("posts", posts), ("reactions", reactions))}


def export_community(stakeholder: Stakeholder) -> tuple[str, dict]:
    """What the person wrote and did in the brand's spaces, for their data export."""
    if stakeholder.account_id is None:
        return "community", {}
    return "community", community_record(stakeholder.account_id, _spaces(stakeholder.brand_id, None).scalar_subquery())


def export_account_community(account_id: int) -> tuple[str, dict]:
    """Everything the account wrote and did in every space, for its own data export."""
    return "community", community_record(account_id)


def erase_community_content(account_id: int) -> None:
    """Before an account is erased: delete its posts and remove its reactions through the one
    path each (so open clients and resuming ones see them go, and stored events lose their
    bodies), then drop what is left: reactions on deleted posts, mentions, memberships."""
    account = db.session.get(Account, account_id)
    for post in db.session.scalars(select(Post).where(Post.author_id == account_id, Post.deleted.is_(False))).all():
        service.do_delete_post(account, post)
    reacted = db.session.execute(select(Post, Reaction.emoji).join(Reaction, Reaction.post_id == Post.id).where(
        Reaction.account_id == account_id, Post.deleted.is_(False))).all()
    for post, emoji in reacted:  # through the one path, so open clients see the counts drop
        service.do_unreact(account, post, emoji)
    for model in (Reaction, Mention, Membership):
        db.session.execute(db.delete(model).where(model.account_id == account_id))


def init_activity() -> None:
    register_activity_source(activity_by_account)
    register_export_source(export_community, account_source=export_account_community)
    account_erasing.connect(erase_community_content)
