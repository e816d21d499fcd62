"""REST views for threads, posts and reactions: parse, call the service, serialise."""

from __future__ import annotations

from sqlalchemy import select

from community import access
from community.moderation import rules as moderation_rules
from community.conversations import reading, service
from community.models import Mention, Post, Space, Thread
from community.schemas import (
    MemberThreadOut, PostArgs, PostEditArgs, PostOut, PostPage, ReactionArgs, ReactionOut, ReadThreadArgs, ThreadArgs, ThreadOut,
    ThreadPage, reaction_summaries,
)
from core.auth import authenticated, current_account, limit_writes
from core.pagination import SortKey, keyset_page
from core.validation import PageArgs
from core.errors import ApiBlueprint

blp = limit_writes(ApiBlueprint("conversations", __name__, url_prefix="/api/v1", description="Threads, posts, reactions"))


def _with_reactions(posts: list[Post]) -> list[Post]:
    summaries = reaction_summaries([p.id for p in posts], current_account().id)
    for post in posts:
        post.reaction_summary = summaries[post.id]
    return posts


@blp.route("/spaces/<id:space_id>/threads", methods=["GET"])
@authenticated
@blp.arguments(PageArgs, location="query")
@blp.response(200, ThreadPage)
def list_threads(args, space_id):
    """Threads of a visible space: pinned first, then by latest activity; each with your read
    position and, for threads you track or watch, how many posts are unread."""
    space = access.community_space(current_account(), space_id)
    keys = [SortKey(Thread.pinned, True), SortKey(Thread.last_activity_at, True), SortKey(Thread.id, True)]
    stmt = select(Thread).where(Thread.space_id == space.id, moderation_rules.visible_threads_clause(current_account(), space))
    page = keyset_page(stmt, keys, scope=f"threads:{space.id}", args=args, attrs=["pinned", "last_activity_at", "id"])
    page["items"] = reading.decorate(page["items"], current_account())
    return page


@blp.route("/spaces/<id:space_id>/threads", methods=["POST"])
@authenticated
@blp.arguments(ThreadArgs)
@blp.response(201, ThreadOut)
def create_thread(args, space_id):
    """Start a thread with its first post (members)."""
    space = access.community_space(current_account(), space_id)
    return service.do_create_thread(current_account(), space, args["title"], args["body"])


@blp.route("/threads/<id:thread_id>", methods=["GET"])
@authenticated
@blp.response(200, MemberThreadOut)
def get_thread(thread_id):
    return reading.decorate([access.visible_thread(current_account(), thread_id)[0]], current_account())[0]


@blp.route("/threads/<id:thread_id>/read", methods=["POST"])
@authenticated
@blp.arguments(ReadThreadArgs)
@blp.response(200, MemberThreadOut)
def mark_thread_read(args, thread_id):
    """You have read the thread up to a post of it (omitted: its latest); your position never moves back."""
    thread, space = access.visible_thread(current_account(), thread_id)
    return reading.mark_read(current_account(), thread, space, args["post_id"])


@blp.route("/threads/<id:thread_id>/posts", methods=["GET"])
@authenticated
@blp.arguments(PageArgs, location="query")
@blp.response(200, PostPage)
def list_posts(args, thread_id):
    """Posts of a thread in order; the cursor is stable while others post."""
    thread, space = access.visible_thread(current_account(), thread_id)
    # Hidden posts only for staff and their author; no posts by authors you muted or blocked.
    stmt = select(Post).where(Post.thread_id == thread.id, moderation_rules.visible_posts_clause(current_account(), space))
    page = keyset_page(stmt, [SortKey(Post.seq)], scope=f"posts:{thread.id}", args=args, attrs=["seq"])
    page["items"] = _with_reactions(page["items"])
    return page


@blp.route("/threads/<id:thread_id>/posts", methods=["POST"])
@authenticated
@blp.arguments(PostArgs)
@blp.response(201, PostOut)
@blp.alt_response(200, schema=PostOut, description="A resend with a known client_msg_id: the first post.")
def create_post(args, thread_id):
    """Post in a thread, or reply to a post of it with ``parent_id`` (members); broadcast live."""
    thread, space = access.visible_thread(current_account(), thread_id)
    post, created = service.do_create_post(current_account(), thread, space, **args)
    return _with_reactions([post])[0], 201 if created else 200


@blp.route("/posts/<id:post_id>", methods=["GET"])
@authenticated
@blp.response(200, PostOut)
def get_post(post_id):
    return _with_reactions([access.visible_post(current_account(), post_id)[0]])[0]


@blp.route("/posts/<id:post_id>", methods=["PATCH"])
@authenticated
@blp.arguments(PostEditArgs)
@blp.response(200, PostOut)
def edit_post(args, post_id):
    """Edit your own post."""
    post, thread, space = access.visible_post(current_account(), post_id)
    return _with_reactions([service.do_edit_post(current_account(), post, thread, space, args["body"])])[0]


@blp.route("/posts/<id:post_id>", methods=["DELETE"])
@authenticated
@blp.response(204)
def delete_post(post_id):
    """Delete your own post (soft: replies keep their place)."""
    service.do_delete_post(current_account(), access.visible_post(current_account(), post_id)[0])


@blp.route("/posts/<id:post_id>/reactions", methods=["POST"])
@authenticated
@blp.arguments(ReactionArgs)
@blp.response(201, ReactionOut)
@blp.alt_response(200, schema=ReactionOut, description="You had already reacted with this emoji.")
def react(args, post_id):
    """React to a post (members); one reaction per account, post and emoji."""
    post, _thread, space = access.visible_post(current_account(), post_id)
    reaction, created = service.do_react(current_account(), post, space, args["emoji"])
    return reaction, 201 if created else 200


@blp.route("/posts/<id:post_id>/reactions", methods=["DELETE"])
@authenticated
@blp.arguments(ReactionArgs, location="query")
@blp.response(204)
def unreact(args, post_id):
    """Remove your reaction (``?emoji=``); removing one you never made is harmless."""
    post, _thread, _space = access.visible_post(current_account(), post_id)
    service.do_unreact(current_account(), post, args["emoji"])


@blp.route("/me/mentions", methods=["GET"])
@authenticated
@blp.arguments(PageArgs, location="query")
@blp.response(200, PostPage)
def my_mentions(args):
    """Posts by others that mention you, newest first: what the live ``mention`` event told you,
    for a client that was offline. Only posts you may still read: in spaces you can see, not
    deleted, not hidden by the moderators, not by accounts you muted or blocked."""
    me = current_account()
    stmt = (select(Post).join(Mention, Mention.post_id == Post.id).join(Space, Space.id == Post.space_id)
            .where(Mention.account_id == me.id, Post.author_id != me.id, Post.deleted.is_(False), Post.hidden.is_(False),
                   access.visible_spaces_clause(me, direct=True), Post.author_id.not_in(moderation_rules.filtered_out_authors(me))))
    page = keyset_page(stmt, [SortKey(Post.id, True)], scope=f"mentions:{me.id}", args=args, attrs=["id"])
    page["items"] = _with_reactions(page["items"])
    return page
