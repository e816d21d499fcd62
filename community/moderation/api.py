"""REST views for moderation (docs/moderation.md): parse, call the service, serialise.

Posts and threads are looked up as their viewer may see them (private spaces and hidden
posts are 404 to those who may not); the service then checks who may act.
"""

from __future__ import annotations

from community import access
from community.moderation import actions as moderation, members
from community.models import Sanction, SanctionKind
from community.moderation.schemas import (
    AppealArgs, AppealOut, BanArgs, FlagArgs, FlagOut, MoveArgs, MuteArgs, PostModerationOut, ReasonArgs, SanctionOut,
    SanctionPage, SettingsArgs, SettingsOut,
)
from community.schemas import PostOut, ThreadOut
from community.schemas import reaction_summaries
from core.auth import authenticated, current_account, limit_writes, require_admin
from core.auth_api import AccountOut
from core.errors import ApiBlueprint
from core.pagination import SortKey, keyset_page
from core.validation import PageArgs

blp = limit_writes(ApiBlueprint("moderation", __name__, url_prefix="/api/v1", description="Moderation"))


def _post(post_id):
    return access.visible_post(current_account(), post_id)


def _staff_post(post):
    post.reaction_summary = reaction_summaries([post.id], current_account().id)[post.id]
    return post


# Flags -----------------------------------------------------------------


@blp.route("/posts/<id:post_id>/flags", methods=["POST"])
@authenticated
@blp.arguments(FlagArgs)
@blp.response(201, FlagOut)
def flag_post(args, post_id):
    """Flag someone else's post for the moderators (members; once per post)."""
    post, _thread, space = _post(post_id)
    return moderation.do_flag(current_account(), post, space, args["reason"], args["text"])


@blp.route("/posts/<id:post_id>/flags/dismiss", methods=["POST"])
@authenticated
@blp.arguments(ReasonArgs)
@blp.response(200, PostOut)
def dismiss_flags(args, post_id):
    """Dismiss the post's pending flags (staff); a post the flags hid is shown again."""
    post, _thread, space = _post(post_id)
    return _staff_post(moderation.do_dismiss_flags(current_account(), post, space, args["reason"]))


# Posts --------------------------------------------------------------------------------


def _post_action(action, post_id, reason):
    post, _thread, space = _post(post_id)
    return _staff_post(action(current_account(), post, space, reason))


@blp.route("/posts/<id:post_id>/hide", methods=["POST"])
@authenticated
@blp.arguments(ReasonArgs)
@blp.response(200, PostOut)
def hide_post(args, post_id):
    """Hide a post (staff): it vanishes for members at once; its author sees why."""
    return _post_action(moderation.do_hide, post_id, args["reason"])


@blp.route("/posts/<id:post_id>/unhide", methods=["POST"])
@authenticated
@blp.arguments(ReasonArgs)
@blp.response(200, PostOut)
def unhide_post(args, post_id):
    """Show a hidden post again (staff); grants a pending appeal."""
    return _post_action(moderation.do_unhide, post_id, args["reason"])


@blp.route("/posts/<id:post_id>/remove", methods=["POST"])
@authenticated
@blp.arguments(ReasonArgs)
@blp.response(200, PostOut)
def remove_post(args, post_id):
    """Delete a post as staff (soft, like an author's delete), with a reason."""
    return _post_action(moderation.do_remove_post, post_id, args["reason"])


@blp.route("/posts/<id:post_id>/moderation", methods=["GET"])
@authenticated
@blp.response(200, PostModerationOut)
def post_moderation(post_id):
    """Why your post is hidden, and your appeal (the author; staff too)."""
    post, _thread, space = _post(post_id)
    return members.post_moderation(current_account(), post, space)


@blp.route("/posts/<id:post_id>/appeal", methods=["POST"])
@authenticated
@blp.arguments(AppealArgs)
@blp.response(201, AppealOut)
def appeal(args, post_id):
    """Appeal the hiding of your post, once (409 on a second appeal); it joins the review queue."""
    post, _thread, space = _post(post_id)
    return members.do_appeal(current_account(), post, space, args["text"])


@blp.route("/posts/<id:post_id>/appeal/deny", methods=["POST"])
@authenticated
@blp.arguments(ReasonArgs)
@blp.response(200, AppealOut)
def deny_appeal(args, post_id):
    """Keep the post hidden and close its appeal (staff); granting is ``/unhide``."""
    post, _thread, space = _post(post_id)
    return members.do_deny_appeal(current_account(), post, space, args["reason"])


# Threads -------------------------------------------------------------------------------


def _thread_state(thread_id, attr, value, reason):
    thread, space = access.visible_thread(current_account(), thread_id)
    return moderation.do_set_thread_state(current_account(), thread, space, attr, value, reason)


for _path, _attr, _value, _doc in (
    ("lock", "locked", True, "Lock a thread (staff): no new posts or edits."),
    ("unlock", "locked", False, "Unlock a thread (staff)."),
    ("pin", "pinned", True, "Pin a thread to the top of its space (staff)."),
    ("unpin", "pinned", False, "Unpin a thread (staff)."),
):
    def _view(args, thread_id, _attr=_attr, _value=_value):
        return _thread_state(thread_id, _attr, _value, args["reason"])

    _view.__name__, _view.__doc__ = f"{_path}_thread", _doc
    blp.route(f"/threads/<id:thread_id>/{_path}", methods=["POST"])(
        authenticated(blp.arguments(ReasonArgs)(blp.response(200, ThreadOut)(_view)))
    )


@blp.route("/threads/<id:thread_id>/move", methods=["POST"])
@authenticated
@blp.arguments(MoveArgs)
@blp.response(200, ThreadOut)
def move_thread(args, thread_id):
    """Move a thread to another space of the same brand (staff of both spaces)."""
    thread, space = access.visible_thread(current_account(), thread_id)
    return moderation.do_move_thread(current_account(), thread, space, args["space_id"], args["reason"])


# Members of a space ------------------------------------------------------------------------


def _staff_space(space_id):
    space = access.community_space(current_account(), space_id)
    access.require_staff(current_account(), space)
    return space


@blp.route("/spaces/<id:space_id>/mutes/<id:account_id>", methods=["PUT"])
@authenticated
@blp.arguments(MuteArgs)
@blp.response(200, SanctionOut)
def mute_member(args, space_id, account_id):
    """Mute an account in the space until a time (staff): it may read, not post or react."""
    space = access.community_space(current_account(), space_id)
    return members.do_sanction(current_account(), space, account_id, SanctionKind.mute, args["until"], args["reason"])


@blp.route("/spaces/<id:space_id>/bans/<id:account_id>", methods=["PUT"])
@authenticated
@blp.arguments(BanArgs)
@blp.response(200, SanctionOut)
def ban_member(args, space_id, account_id):
    """Ban an account from the space, until a time or for good (staff); its sockets are cut off at once."""
    space = access.community_space(current_account(), space_id)
    return members.do_sanction(current_account(), space, account_id, SanctionKind.ban, args["until"], args["reason"])


@blp.route("/spaces/<id:space_id>/mutes/<id:account_id>/lift", methods=["POST"])
@authenticated
@blp.arguments(ReasonArgs)
@blp.response(204)
def unmute_member(args, space_id, account_id):
    """End a mute early (staff)."""
    space = access.community_space(current_account(), space_id)
    members.do_lift_sanction(current_account(), space, account_id, SanctionKind.mute, args["reason"])


@blp.route("/spaces/<id:space_id>/bans/<id:account_id>/lift", methods=["POST"])
@authenticated
@blp.arguments(ReasonArgs)
@blp.response(204)
def unban_member(args, space_id, account_id):
    """End a ban early (staff); the account may join again."""
    space = access.community_space(current_account(), space_id)
    members.do_lift_sanction(current_account(), space, account_id, SanctionKind.ban, args["reason"])


@blp.route("/spaces/<id:space_id>/sanctions", methods=["GET"])
@authenticated
@blp.arguments(PageArgs, location="query")
@blp.response(200, SanctionPage)
def list_sanctions(args, space_id):
    """Mutes and bans in force in the space (staff)."""
    space = _staff_space(space_id)
    stmt = members.active_sanctions_query(space)
    return keyset_page(stmt, [SortKey(Sanction.id)], scope=f"sanctions:{space.id}", args=args, attrs=["id"])


@blp.route("/spaces/<id:space_id>/moderation/settings", methods=["GET"])
@authenticated
@blp.response(200, SettingsOut)
def get_settings(space_id):
    """Slow mode and new-member limits of a visible space."""
    return access.community_space(current_account(), space_id)


@blp.route("/spaces/<id:space_id>/moderation/settings", methods=["PATCH"])
@authenticated
@blp.arguments(SettingsArgs)
@blp.response(200, SettingsOut)
def update_settings(args, space_id):
    """Turn slow mode or new-member limits on or off (staff), with a reason."""
    space = access.community_space(current_account(), space_id)
    reason = args.pop("reason")
    return members.do_update_settings(current_account(), space, args, reason)


# Accounts ---------------------------------------------------------------------------------


@blp.route("/accounts/<id:account_id>/suspend", methods=["POST"])
@require_admin
@blp.arguments(ReasonArgs)
@blp.response(200, AccountOut)
def suspend_account(args, account_id):
    """Suspend an account, audited (admins): its tokens are refused and its sockets closed at once."""
    return members.do_set_suspension(current_account(), account_id, True, args["reason"])


@blp.route("/accounts/<id:account_id>/reinstate", methods=["POST"])
@require_admin
@blp.arguments(ReasonArgs)
@blp.response(200, AccountOut)
def reinstate_account(args, account_id):
    """Lift a suspension, audited (admins); the account must log in again."""
    return members.do_set_suspension(current_account(), account_id, False, args["reason"])
