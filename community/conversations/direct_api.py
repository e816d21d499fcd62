"""REST views for direct conversations: parse, call ``direct``, serialise (docs/api.md).

Every view but ``POST /conversations`` first finds the conversation among the caller's
own (``direct.conversation_of``): anyone else, admins and brand staff included, gets 404.
Messages are the posts of the conversation's one thread, in the thread and post shapes.
"""

from __future__ import annotations

from sqlalchemy import select

from community.conversations import direct
from community.conversations.threads_api import _with_reactions
from community.models import Post, Thread
from community.moderation import rules as moderation_rules
from community.schemas import (
    ConversationArgs, ConversationOut, ConversationPage, ParticipantArgs, PostArgs, PostOut, PostPage, ReadArgs,
)
from core.auth import authenticated, current_account, limit_writes
from core.errors import ApiBlueprint
from core.pagination import SortKey, keyset_page
from core.validation import PageArgs

blp = limit_writes(ApiBlueprint("direct", __name__, url_prefix="/api/v1", description="Direct conversations"))


def _out(conversation):
    return direct.decorate([conversation], current_account())[0]


@blp.route("/conversations", methods=["POST"])
@authenticated
@blp.arguments(ConversationArgs)
@blp.response(201, ConversationOut)
@blp.alt_response(200, schema=ConversationOut, description="The existing one-to-one with this person, reused.")
def start_conversation(args):
    """Start a conversation with people you may reach (no block either way, not suspended), with
    an optional first message. One other person: your one-to-one with them, reused if it exists."""
    me = current_account()
    others = direct.resolve_people(me, args["handles"], args["account_ids"])
    conversation, created = direct.do_start(me, others, group=args["group"], title=args["title"])
    if args["body"] is not None:
        direct.do_post(me, conversation, args["body"], None, args["client_msg_id"])
    return _out(conversation), 201 if created else 200


@blp.route("/conversations", methods=["GET"])
@authenticated
@blp.arguments(PageArgs, location="query")
@blp.response(200, ConversationPage)
def list_conversations(args):
    """Your conversations, newest activity first, with participants and unread counts."""
    me = current_account()
    keys = [SortKey(Thread.last_activity_at, True), SortKey(Thread.space_id, True)]
    page = keyset_page(direct.mine_query(me), keys, scope=f"conversations:{me.id}", args=args,
                       attrs=["last_activity_at", "space_id"])
    page["items"] = direct.decorate(page["items"], me)
    return page


@blp.route("/conversations/<id:conversation_id>", methods=["GET"])
@authenticated
@blp.response(200, ConversationOut)
def get_conversation(conversation_id):
    return _out(direct.conversation_of(current_account(), conversation_id))


@blp.route("/conversations/<id:conversation_id>/messages", methods=["GET"])
@authenticated
@blp.arguments(PageArgs, location="query")
@blp.response(200, PostPage)
def list_messages(args, conversation_id):
    """Messages in order (as a thread's posts); the cursor is stable while others write."""
    me = current_account()
    conversation = direct.conversation_of(me, conversation_id)
    stmt = select(Post).where(Post.thread_id == conversation.thread_id,
                              moderation_rules.visible_posts_clause(me, conversation.space))
    page = keyset_page(stmt, [SortKey(Post.seq)], scope=f"posts:{conversation.thread_id}", args=args, attrs=["seq"])
    page["items"] = _with_reactions(page["items"])
    return page


@blp.route("/conversations/<id:conversation_id>/messages", methods=["POST"])
@authenticated
@blp.arguments(PostArgs)
@blp.response(201, PostOut)
@blp.alt_response(200, schema=PostOut, description="A resend with a known client_msg_id: the first message.")
def post_message(args, conversation_id):
    """Send a message (as a post: ``parent_id`` replies, ``client_msg_id`` makes resends safe); live to every participant."""
    me = current_account()
    post, created = direct.do_post(me, direct.conversation_of(me, conversation_id), **args)
    return _with_reactions([post])[0], 201 if created else 200


@blp.route("/conversations/<id:conversation_id>/participants", methods=["POST"])
@authenticated
@blp.arguments(ParticipantArgs)
@blp.response(200, ConversationOut)
def add_participants(args, conversation_id):
    """Add people to a group conversation (participants; 409 ``not-a-group`` for a one-to-one)."""
    me = current_account()
    conversation = direct.conversation_of(me, conversation_id)
    people = direct.resolve_people(me, args["handles"], args["account_ids"])
    return _out(direct.do_add_participants(me, conversation, people))


@blp.route("/conversations/<id:conversation_id>/leave", methods=["POST"])
@authenticated
@blp.response(204)
def leave_conversation(conversation_id):
    """Leave a conversation; your sockets stop receiving it at once."""
    me = current_account()
    direct.do_leave(me, direct.conversation_of(me, conversation_id))


@blp.route("/conversations/<id:conversation_id>/read", methods=["POST"])
@authenticated
@blp.arguments(ReadArgs)
@blp.response(200, ConversationOut)
def mark_read(args, conversation_id):
    """Move your read position (unread counts) to ``seq``, or to the latest message."""
    me = current_account()
    conversation = direct.conversation_of(me, conversation_id)
    direct.do_mark_read(me, conversation, args["seq"])
    return _out(conversation)
