"""REST views for each member's own mutes and blocks of other members (docs/moderation.md)."""

from __future__ import annotations

from sqlalchemy import select

from community.moderation import members
from community.models import PersonalFilter, PersonalFilterKind
from community.moderation.schemas import PersonalFilterOut, PersonalFilterPage
from core.auth import authenticated, current_account, limit_writes
from core.errors import ApiBlueprint
from core.pagination import SortKey, keyset_page
from core.validation import PageArgs

blp = limit_writes(ApiBlueprint("personal-filters", __name__, url_prefix="/api/v1", description="Your mutes and blocks"))

_KINDS = (
    ("mutes", PersonalFilterKind.mute, "Mute", "their posts are left out of your listings"),
    ("blocks", PersonalFilterKind.block, "Block", "their posts are left out of your listings and they may not reply to yours"),
)


def _register(plural: str, kind: PersonalFilterKind, verb: str, effect: str) -> None:
    def list_view(args):
        stmt = select(PersonalFilter).where(PersonalFilter.owner_id == current_account().id, PersonalFilter.kind == kind)
        return keyset_page(stmt, [SortKey(PersonalFilter.id)], scope=f"me-{plural}", args=args, attrs=["id"])

    def put_view(account_id):
        entry, created = members.do_personal_filter(current_account(), account_id, kind)
        return entry, 201 if created else 200

    def delete_view(account_id):
        members.do_remove_personal_filter(current_account(), account_id, kind)

    list_view.__name__, list_view.__doc__ = f"list_{plural}", f"Accounts you {kind.value}d, oldest first."
    put_view.__name__, put_view.__doc__ = f"add_{kind.value}", f"{verb} another member for yourself: {effect}."
    delete_view.__name__, delete_view.__doc__ = f"remove_{kind.value}", f"Undo your {kind.value} (harmless when there is none)."
    blp.route(f"/me/{plural}", methods=["GET"])(
        authenticated(blp.arguments(PageArgs, location="query")(blp.response(200, PersonalFilterPage)(list_view)))
    )
    blp.route(f"/me/{plural}/<id:account_id>", methods=["PUT"])(
        authenticated(blp.response(201, PersonalFilterOut)(
            blp.alt_response(200, schema=PersonalFilterOut, description=f"You had already {kind.value}d them.")(put_view)
        ))
    )
    blp.route(f"/me/{plural}/<id:account_id>", methods=["DELETE"])(authenticated(blp.response(204)(delete_view)))


for _args in _KINDS:
    _register(*_args)
