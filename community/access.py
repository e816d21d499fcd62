"""Who may see and do what in a space. Every view and event goes through these checks.

Rules (docs/api.md has the matrix):
- a public space is visible to every signed-in account; a private one only to its
  members, the brand's managers and platform admins; to anyone else it does not exist (404);
- reading a visible space's threads and posts needs no membership; writing needs it;
- space staff = platform admins, the brand's managers, and the space's moderators and managers;
- a direct conversation (``Visibility.direct``) is visible to its participants only: not to
  admins, not to any brand's staff (it has no brand). It is no community space: space
  listings and ``/spaces/{id}`` views leave it out (``community_space``). Admins reach one
  message of it only once a participant has flagged it (``visible_post``, the review queue).
"""

from __future__ import annotations

from blinker import Namespace
from sqlalchemy import and_, bindparam, event, exists, or_, select
from sqlalchemy.orm import Session

from community.models import Flag, Membership, Post, Space, SpaceRole, Thread, Visibility
from core import sql
from core.accounts import Account
from core.errors import forbidden, not_found
from core.extensions import db
from purpose.access import is_brand_manager, require_brand_manager  # noqa: F401 (re-exported)
from purpose.models import BrandStaff, Purpose, StaffRole

#: Sent after a commit that ends an account's access to a space: ``sender`` is the account id,
#: with ``space_id`` and ``reason``. The Socket.IO layer cuts that account's sockets off the room.
space_access_lost = Namespace().signal("space-access-lost")
#: Sent after a commit that changes an account's role in a space: ``sender`` is the account id,
#: with ``space_id``. The Socket.IO layer takes a demoted moderator's sockets out of the moderators' room.
space_role_changed = Namespace().signal("space-role-changed")

_CACHE = "membership_cache"


def brand_of_space(space: Space) -> int | None:
    if space.purpose_id is None:  # a direct conversation: no brand
        return None
    return db.session.scalar(select(Purpose.brand_id).where(Purpose.id == space.purpose_id))


def membership_of(account: Account, space: Space) -> Membership | None:
    """The account's membership of the space, looked up once per transaction."""
    cache = db.session.info.setdefault(_CACHE, {})
    key = (account.id, space.id)
    if key not in cache:
        cache[key] = db.session.scalar(
            select(Membership).where(Membership.space_id == space.id, Membership.account_id == account.id)
        )
    return cache[key]


def remember_membership(account: Account, space: Space, membership: Membership | None) -> None:
    """Record a membership (or its absence) read along with something else, for ``membership_of``."""
    db.session.info.setdefault(_CACHE, {})[(account.id, space.id)] = membership


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_memberships(session) -> None:
    session.info.pop(_CACHE, None)


@event.listens_for(Session, "before_flush")
def _forget_changed_memberships(session, _context, _instances) -> None:
    """Several actions share a transaction (core/outbox.py): one that joins, leaves or changes a
    role makes the next one look memberships up again."""
    if any(isinstance(obj, Membership) for obj in (*session.new, *session.deleted, *session.dirty)):
        session.info.pop(_CACHE, None)


def is_space_staff(account: Account, space: Space) -> bool:
    if space.visibility is Visibility.direct:  # nobody moderates a conversation from inside; admins act on flagged messages
        return account.is_admin
    if account.is_admin or is_brand_manager(account, brand_of_space(space)):
        return True
    membership = membership_of(account, space)
    return membership is not None and membership.role in (SpaceRole.moderator, SpaceRole.manager)


def can_see(account: Account, space: Space) -> bool:
    if space.visibility is Visibility.direct:  # participants only: no admin, no brand staff
        return membership_of(account, space) is not None
    if space.visibility is Visibility.public or account.is_admin:
        return True
    return membership_of(account, space) is not None or is_brand_manager(account, brand_of_space(space))


def visible_spaces_clause(account: Account, *, direct: bool = False):
    """A WHERE clause selecting the spaces ``account`` may see (for list queries): community
    spaces only, or (``direct``) also the direct conversations ``account`` takes part in."""
    member_of = select(Membership.space_id).where(Membership.account_id == account.id)
    if account.is_admin:
        not_direct = Space.visibility != Visibility.direct
        return or_(not_direct, and_(Space.visibility == Visibility.direct, Space.id.in_(member_of))) if direct else not_direct
    managed = (
        select(Purpose.id)
        .join(BrandStaff, BrandStaff.brand_id == Purpose.brand_id)
        .where(BrandStaff.account_id == account.id, BrandStaff.role == StaffRole.manager)
    )
    visible = or_(Space.visibility == Visibility.public, Space.id.in_(member_of), Space.purpose_id.in_(managed))
    return visible if direct else and_(visible, Space.visibility != Visibility.direct)


def visible_space(account: Account, space_id: int) -> Space:
    """The space, or 404 when it does not exist or ``account`` may not see it."""
    space = db.session.get(Space, space_id)
    if space is None or not can_see(account, space):
        raise not_found("space")
    return space


def community_space(account: Account, space_id: int) -> Space:
    """A visible community space, or 404: also for a direct conversation, which its
    participants reach under ``/conversations`` (its thread and posts under their own URLs)."""
    space = visible_space(account, space_id)
    if space.visibility is Visibility.direct:
        raise not_found("space")
    return space


_THREAD_SPACE_MEMBERSHIP = (  # built once: every post runs it
    select(*sql.columns(Thread, Space, Membership))
    .join(Space, Space.id == Thread.space_id)
    .outerjoin(Membership, (Membership.space_id == Space.id) & (Membership.account_id == bindparam("account_id")))
    .where(Thread.id == bindparam("thread_id"))
)


def visible_thread(account: Account, thread_id: int, *, asked_for: str = "thread") -> tuple[Thread, Space]:
    """The thread and its space, or 404; one query that also answers "is the account a member".

    The 404 names what the caller asked for (``asked_for``), so a post in a private space
    answers exactly as a post id never used, never "the thread does not exist"."""
    row = sql.run(_THREAD_SPACE_MEMBERSHIP, {"account_id": account.id, "thread_id": thread_id}).first()
    if row is None:
        raise not_found(asked_for)
    thread, space, membership = sql.loaded(row, Thread, Space, Membership)
    db.session.info.setdefault(_CACHE, {})[(account.id, space.id)] = membership
    if not can_see(account, space):
        raise not_found(asked_for)
    return thread, space


def visible_post(account: Account, post_id: int) -> tuple[Post, Thread, Space]:
    """The post, its thread and space, or 404 with the same body whatever the reason."""
    post = db.session.get(Post, post_id)
    if post is None:
        raise not_found("post")
    if account.is_admin and _flagged_direct_message(post):  # what a participant reported, and only that
        thread, space = db.session.get(Thread, post.thread_id), db.session.get(Space, post.space_id)
        return post, thread, space
    thread, space = visible_thread(account, post.thread_id, asked_for="post")
    if post.hidden and post.author_id != account.id and not is_space_staff(account, space):
        raise not_found("post")  # hidden by the moderators: only staff and the author see it
    return post, thread, space


def _flagged_direct_message(post: Post) -> bool:
    """A message of a direct conversation that a participant flagged (admins review it)."""
    return bool(db.session.scalar(select(exists().where(
        Space.id == post.space_id, Space.visibility == Visibility.direct,
    ).where(exists().where(Flag.post_id == post.id)))))


def require_member(account: Account, space: Space) -> Membership:
    """The account's membership of a visible space, or 403 (join first)."""
    membership = membership_of(account, space)
    if membership is None:
        raise forbidden("Join the space to take part in it.", "not-a-member")
    return membership


def require_staff(account: Account, space: Space) -> None:
    if not is_space_staff(account, space):
        raise forbidden("Only the space's moderators, managers or the brand's managers may do this.")
