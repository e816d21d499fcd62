"""REST views for ideas: parse, call ``ideas.service``, serialise.

Who may do what: whoever sees the space sees its ideas (a private space's are 404 to others; a direct
conversation has none); members of the space submit and vote (the post path's rules apply to submitting,
sanctions to voting); the brand's managers and admins set statuses.
"""

from __future__ import annotations

from community.access import community_space, is_space_staff
from core.auth import authenticated, current_account, limit_writes
from core.errors import ApiBlueprint
from core.pagination import SortKey, keyset_page
from ideas import service
from ideas.models import Idea
from ideas.schemas import IdeaArgs, IdeaDetailOut, IdeaListArgs, IdeaOut, IdeaPage, StatusArgs

blp = limit_writes(ApiBlueprint("ideas", __name__, url_prefix="/api/v1", description="Ideas: submit, vote, statuses"))


def _fields(idea: Idea, space) -> dict:
    """The idea's fields, with the space its thread is in now."""
    return {**{k: getattr(idea, k) for k in IdeaOut._declared_fields}, "space_id": space.id}


def _detail(idea: Idea, space) -> dict:
    account = current_account()
    post = service.opening_post(idea)
    shown = post is not None and not post.deleted and (
        not post.hidden or post.author_id == account.id or is_space_staff(account, space))
    return {**_fields(idea, space), "body": post.body if shown else None, "my_vote": service.my_vote(account, idea.id),
            "history": service.history(idea.id)}


@blp.route("/spaces/<id:space_id>/ideas", methods=["POST"])
@authenticated
@blp.arguments(IdeaArgs)
@blp.response(201, IdeaDetailOut)
def submit(args, space_id):
    """Submit an idea (members of the space; the rules of starting a thread apply): its comments are a thread."""
    space = community_space(current_account(), space_id)
    return _detail(service.do_submit(current_account(), space, args["title"], args["body"]), space)


@blp.route("/spaces/<id:space_id>/ideas", methods=["GET"])
@authenticated
@blp.arguments(IdeaListArgs, location="query")
@blp.response(200, IdeaPage)
def list_ideas(args, space_id):
    """The space's ideas, most voted first (``sort=votes``) or newest first (``sort=new``), optionally of one status."""
    space = community_space(current_account(), space_id)
    stmt = service.in_space(space)
    status = args.get("status")
    if status is not None:
        stmt = stmt.where(Idea.status == status)
    if args["sort"] == "votes":
        keys, attrs = [SortKey(Idea.votes, descending=True), SortKey(Idea.id, descending=True)], ["votes", "id"]
    else:
        keys, attrs = [SortKey(Idea.id, descending=True)], ["id"]
    scope = f"ideas:{space.id}:{args['sort']}:{status.value if status else ''}"
    page = keyset_page(stmt, keys, scope=scope, args=args, attrs=attrs)
    return {**page, "items": [_fields(idea, space) for idea in page["items"]]}


@blp.route("/ideas/<id:idea_id>", methods=["GET"])
@authenticated
@blp.response(200, IdeaDetailOut)
def get_idea(idea_id):
    """An idea with its body, votes, your vote and its status history."""
    return _detail(*service.visible_idea(current_account(), idea_id))


@blp.route("/ideas/<id:idea_id>/vote", methods=["PUT"])
@authenticated
@blp.response(200, IdeaDetailOut)
def vote(idea_id):
    """Vote for the idea (members of its space), once: voting again changes nothing. A shipped or declined
    idea takes no votes (409 ``idea-closed``)."""
    idea = service.do_vote(current_account(), idea_id)
    return _detail(*service.visible_idea(current_account(), idea.id))


@blp.route("/ideas/<id:idea_id>/vote", methods=["DELETE"])
@authenticated
@blp.response(200, IdeaDetailOut)
def unvote(idea_id):
    """Take your vote back (harmless when you had none)."""
    idea = service.do_unvote(current_account(), idea_id)
    return _detail(*service.visible_idea(current_account(), idea.id))


@blp.route("/ideas/<id:idea_id>/status", methods=["POST"])
@authenticated
@blp.arguments(StatusArgs)
@blp.response(200, IdeaDetailOut)
def set_status(args, idea_id):
    """Set the idea's status with a public reason (the brand's managers and admins); the author and every
    voter are notified (kind ``idea_status``)."""
    idea = service.do_set_status(current_account(), idea_id, args["status"], args["reason"])
    return _detail(*service.visible_idea(current_account(), idea.id))
