"""``GET /api/v1/search``: full-text search over what the caller may read (community/conversations/search.py)."""

from __future__ import annotations

from datetime import timezone

import marshmallow as ma
from flask import current_app
from marshmallow import validate

from community import access
from community.conversations import search as search_service
from community.schemas import AuthorOut
from core.auth import authenticated, current_account
from core.errors import ApiBlueprint, ApiError
from core.validation import PageArgs, SafeText, page_schema

blp = ApiBlueprint("search", __name__, url_prefix="/api/v1", description="Full-text search")

_ID = {"validate": validate.Range(min=1, max=2**31 - 1), "load_default": None}


class SearchArgs(PageArgs):
    q = SafeText(required=True, validate=validate.Length(max=search_service.MAX_QUERY_LENGTH), metadata={
        "description": "Words to find (all of them), `\"a phrase\"`, `-word` or `-\"a phrase\"` to exclude, `or` "
                       "between alternatives (`a b or c` is `(a and b) or c`); PostgreSQL's websearch syntax on "
                       "both databases. A query with nothing to find is a 400."})
    type = ma.fields.String(load_default="posts", validate=validate.OneOf(search_service.KINDS), metadata={
        "description": "What to find: posts (bodies), threads (titles), spaces (names, descriptions) or members "
                       "(handles, display names) of spaces you can see."})
    space_id = ma.fields.Integer(**_ID, metadata={"description": "Only in this space (for members: its members)."})
    thread_id = ma.fields.Integer(**_ID, metadata={"description": "Posts only: in this thread."})
    author_id = ma.fields.Integer(**_ID, metadata={"description": "Posts and threads: by this account."})
    after = ma.fields.AwareDateTime(load_default=None, default_timezone=timezone.utc,
                                    metadata={"description": "Created at or after (UTC when no offset is given)."})
    before = ma.fields.AwareDateTime(load_default=None, default_timezone=timezone.utc,
                                     metadata={"description": "Created before (UTC when no offset is given)."})
    has_reactions = ma.fields.Boolean(load_default=None, truthy={"true"}, falsy={"false"}, metadata={
        "description": "Posts only: with (`true`) or without (`false`) reactions; nothing else is taken."})
    sort = ma.fields.String(load_default="relevance", validate=validate.OneOf(("relevance", "date")), metadata={
        "description": "relevance (combined with recency) or date (newest first)."})


class SearchHit(ma.Schema):
    kind = ma.fields.String(metadata={"description": "post, thread, space or member."})
    id = ma.fields.Integer(metadata={"description": "The post's, thread's, space's or account's id."})
    space_id = ma.fields.Integer(allow_none=True)
    thread_id = ma.fields.Integer(allow_none=True, metadata={"description": "Posts: their thread, to open at `seq`."})
    seq = ma.fields.Integer(allow_none=True, metadata={"description": "Posts: their place in the space's sequence."})
    title = ma.fields.String(metadata={"description": "The thread's title (posts, threads), the space's name, "
                                                      "the member's display name."})
    snippet = ma.fields.String(metadata={"description": "HTML: the matching text, escaped, with the matches in "
                                                        "`<mark>`…`</mark>`; no other markup."})
    author = ma.fields.Nested(AuthorOut, allow_none=True, metadata={"description": "Posts and threads: the author; members: the member."})
    created_at = ma.fields.DateTime()
    hidden = ma.fields.Boolean(metadata={"description": "Posts hidden by the moderators (found only by staff and their author)."})


SearchPage = page_schema(SearchHit, "SearchPage")

_POSTS_ONLY = {"thread_id": ("posts",), "has_reactions": ("posts",), "author_id": ("posts", "threads")}


@blp.route("/search", methods=["GET"])
@authenticated
@blp.arguments(SearchArgs, location="query")
@blp.response(200, SearchPage)
@blp.alt_response(400, response="BAD_REQUEST")  # bad-search-query: nothing to find, or too many words
def search(args):
    """Search what you may read; best matches first (relevance and recency), or newest first."""
    me = current_account()
    for name, kinds in _POSTS_ONLY.items():
        if args.get(name) is not None and args["type"] not in kinds:
            raise ApiError(422, f"{name} applies to {' and '.join(kinds)}.", errors={name: [f"Only with type {'/'.join(kinds)}."]})
    space = access.visible_space(me, args["space_id"]) if args.get("space_id") is not None else None
    limit = min(args.get("limit") or current_app.config["PAGE_LIMIT_DEFAULT"], current_app.config["PAGE_LIMIT_MAX"])
    return search_service.run_search(me, search_service.Search(
        q=args["q"], kind=args["type"], space=space, thread_id=args.get("thread_id"), author_id=args.get("author_id"),
        after=args.get("after"), before=args.get("before"), has_reactions=args.get("has_reactions"), sort=args["sort"],
        limit=limit, cursor=args.get("cursor"),
    ))
