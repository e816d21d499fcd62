"""Request and response shapes of ideas, votes and status changes."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from core.validation import PageArgs, SafeText, StrictSchema, page_schema
from ideas.models import IdeaStatus

MAX_TITLE = 200
MAX_BODY = 10_000  # the post path's limit: the body is the thread's opening post
MAX_REASON = 2_000

_SETTABLE = [s.value for s in IdeaStatus if s is not IdeaStatus.new]


class IdeaArgs(StrictSchema):
    title = SafeText(required=True, validate=validate.Length(min=3, max=MAX_TITLE))
    body = SafeText(required=True, multiline=True, validate=validate.Length(max=MAX_BODY), metadata={
        "description": "Markdown source: the opening post of the idea's thread."})


class IdeaListArgs(PageArgs):
    status = ma.fields.Enum(IdeaStatus, load_default=None, metadata={"description": "Only ideas with this status."})
    sort = ma.fields.String(load_default="votes", validate=validate.OneOf(["votes", "new"]), metadata={
        "description": "`votes` (most first, then newest; counts move between pages, so an idea may show twice "
                       "or not at all across pages while votes come in) or `new` (newest first)."})


class StatusArgs(StrictSchema):
    status = ma.fields.String(required=True, validate=validate.OneOf(_SETTABLE), metadata={
        "description": "`under_review`, `planned`, `shipped` or `declined`; never back to `new`."})
    reason = SafeText(required=True, multiline=True, validate=validate.Length(min=1, max=MAX_REASON), metadata={
        "description": "Shown to everyone who sees the idea, and in the author's and voters' notifications."})

    @ma.post_load
    def _status(self, data, **_):
        return {**data, "status": IdeaStatus(data["status"])}


class StatusChangeOut(ma.Schema):
    id = ma.fields.Integer()
    from_status = ma.fields.Enum(IdeaStatus, data_key="from")
    to_status = ma.fields.Enum(IdeaStatus, data_key="to")
    reason = ma.fields.String()
    changed_by = ma.fields.Integer(allow_none=True, metadata={"description": "The manager's account (null once erased)."})
    created_at = ma.fields.DateTime()


class IdeaOut(ma.Schema):
    id = ma.fields.Integer()
    space_id = ma.fields.Integer()
    thread_id = ma.fields.Integer(metadata={"description": "The idea's comments: `GET /threads/{id}/posts`."})
    post_id = ma.fields.Integer(allow_none=True, metadata={"description": "The thread's opening post: the idea's body."})
    author_id = ma.fields.Integer(allow_none=True, metadata={"description": "Null once the author was erased."})
    title = ma.fields.String()
    status = ma.fields.Enum(IdeaStatus)
    votes = ma.fields.Integer()
    created_at = ma.fields.DateTime()
    status_changed_at = ma.fields.DateTime(allow_none=True)
    shipped_at = ma.fields.DateTime(allow_none=True)


class IdeaDetailOut(IdeaOut):
    body = ma.fields.String(allow_none=True, metadata={
        "description": "The opening post's body; null once it was deleted, or while the moderators hide it "
                       "(its author and the space's staff still see it)."})
    my_vote = ma.fields.Boolean(metadata={"description": "Whether you voted for it."})
    history = ma.fields.List(ma.fields.Nested(StatusChangeOut), metadata={"description": "Status changes, oldest first."})


IdeaPage = page_schema(IdeaOut, "IdeaPage")
