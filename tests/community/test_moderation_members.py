"""The members' side of moderation: why a post was hidden, one appeal, personal mutes and blocks;
and the brand managers' queue and log across their spaces."""

from __future__ import annotations

import pytest

from tests.community.moderation_fixtures import mw, post_in  # noqa: F401 (fixture)

API = "/api/v1"


def _hide(mw, post_id, reason="Off topic"):
    assert mw["moderator"].post(f"{API}/posts/{post_id}/hide", json={"reason": reason}).status_code == 200


def _bodies(actor, thread_id):
    return [p["body"] for p in actor.get(f"{API}/threads/{thread_id}/posts").get_json()["items"]]


def test_author_appeals_once_and_the_appeal_lands_in_the_queue(mw):
    poster, moderator = mw["poster"], mw["moderator"]
    _thread, post_id = mw["threads"]["public"]
    early = poster.post(f"{API}/posts/{post_id}/appeal", json={"text": "Why?"})
    assert early.status_code == 409 and early.get_json()["type"] == "not-hidden"
    _hide(mw, post_id, "Looks like spam")
    why = poster.get(f"{API}/posts/{post_id}/moderation").get_json()
    assert (why["hidden_reason"], why["hidden_by"], why["can_appeal"], why["appeal"]) == ("Looks like spam", "moderator", True, None)
    appeal = poster.post(f"{API}/posts/{post_id}/appeal", json={"text": "It is a club event, not an advert."})
    assert appeal.status_code == 201 and appeal.get_json()["resolution"] is None
    again = poster.post(f"{API}/posts/{post_id}/appeal", json={"text": "Please!"})
    assert again.status_code == 409 and again.get_json()["type"] == "already-appealed"
    assert mw["member"].post(f"{API}/posts/{post_id}/appeal", json={"text": "me too"}).status_code == 404  # hidden from them
    queue = moderator.get(f"{API}/spaces/{mw['public']}/moderation/queue").get_json()["items"]
    assert [(i["post"]["id"], i["flag_count"], i["appeal"]["text"]) for i in queue] == [
        (post_id, 0, "It is a club event, not an advert.")]
    denied = moderator.post(f"{API}/posts/{post_id}/appeal/deny", json={"reason": "Still an advert"})
    assert denied.status_code == 200 and denied.get_json()["resolution"] == "denied"
    assert moderator.get(f"{API}/spaces/{mw['public']}/moderation/queue").get_json()["items"] == []
    why = poster.get(f"{API}/posts/{post_id}/moderation").get_json()
    assert why["appeal"]["resolution"] == "denied" and why["can_appeal"] is False
    assert poster.post(f"{API}/posts/{post_id}/appeal", json={"text": "again"}).status_code == 409


def test_unhiding_grants_the_appeal(mw):
    poster, moderator = mw["poster"], mw["moderator"]
    thread_id, post_id = mw["threads"]["public"]
    _hide(mw, post_id)
    assert poster.post(f"{API}/posts/{post_id}/appeal", json={"text": "It was on topic"}).status_code == 201
    assert moderator.post(f"{API}/posts/{post_id}/unhide", json={"reason": "Appeal granted"}).status_code == 200
    why = poster.get(f"{API}/posts/{post_id}/moderation").get_json()
    assert why["hidden"] is False and why["appeal"]["resolution"] == "granted"
    assert _bodies(mw["member"], thread_id) == ["Post in public"]


@pytest.mark.parametrize("body", [{}, {"text": ""}, {"text": "x" * 2001}, {"text": "ok", "more": 1}])
def test_appeal_input_is_validated(mw, body):
    _thread, post_id = mw["threads"]["public"]
    _hide(mw, post_id)
    assert mw["poster"].post(f"{API}/posts/{post_id}/appeal", json=body).status_code == 422


@pytest.mark.parametrize("kind", ["mutes", "blocks"])
def test_personal_mute_or_block_hides_that_authors_posts_for_me_only(mw, kind):
    member, poster = mw["member"], mw["poster"]
    thread_id, _post = mw["threads"]["public"]
    post_in(member, thread_id, "mine")
    added = member.put(f"{API}/me/{kind}/{poster.id}")
    assert added.status_code == 201 and added.get_json()["account"]["handle"] == "pat_poster"
    assert member.put(f"{API}/me/{kind}/{poster.id}").status_code == 200  # twice is harmless
    assert _bodies(member, thread_id) == ["mine"]
    assert _bodies(mw["outsider"], thread_id) == ["Post in public", "mine"]  # only for me
    listed = member.get(f"{API}/me/{kind}").get_json()["items"]
    assert [e["account"]["id"] for e in listed] == [poster.id] and listed[0]["kind"] == kind[:-1]
    assert member.put(f"{API}/me/{kind}/{member.id}").status_code == 422
    assert member.put(f"{API}/me/{kind}/999999").status_code == 404
    assert member.delete(f"{API}/me/{kind}/{poster.id}").status_code == 204
    assert member.delete(f"{API}/me/{kind}/{poster.id}").status_code == 204
    assert _bodies(member, thread_id) == ["Post in public", "mine"]


def test_a_blocked_member_may_not_reply_to_my_posts(mw):
    member, poster = mw["member"], mw["poster"]
    thread_id, post_id = mw["threads"]["public"]
    assert poster.put(f"{API}/me/blocks/{member.id}").status_code == 201
    reply = member.post(f"{API}/threads/{thread_id}/posts", json={"body": "hey", "parent_id": post_id})
    assert reply.status_code == 403 and reply.get_json()["type"] == "blocked"
    assert member.post(f"{API}/threads/{thread_id}/posts", json={"body": "to everyone"}).status_code == 201
    assert poster.put(f"{API}/me/mutes/{member.id}").status_code == 201  # a mute alone does not stop replies
    assert poster.delete(f"{API}/me/blocks/{member.id}").status_code == 204
    assert member.post(f"{API}/threads/{thread_id}/posts", json={"body": "hey", "parent_id": post_id}).status_code == 201


def test_brand_queue_and_log_cover_every_space_of_the_brand(mw):
    manager, member = mw["manager"], mw["member"]
    for space in ("public", "walkers", "rivals"):
        assert member.post(f"{API}/posts/{mw['threads'][space][1]}/flags", json={"reason": "spam"}).status_code == 201
    queue = manager.get(f"{API}/brands/{mw['brand']}/moderation/queue").get_json()["items"]
    assert [i["post"]["space_id"] for i in queue] == [mw["public"], mw["walkers"]]  # oldest first, our brand only
    assert manager.post(f"{API}/posts/{mw['threads']['walkers'][1]}/hide", json={"reason": "spam"}).status_code == 200
    assert mw["rival_boss"].post(f"{API}/posts/{mw['threads']['rivals'][1]}/hide", json={"reason": "spam"}).status_code == 200
    # Setting up the spaces' staff left member_role_changed entries: only the hiding counts here.
    log = manager.get(f"{API}/brands/{mw['brand']}/moderation/audit?action=post_hidden").get_json()["items"]
    assert [(e["space_id"], e["action"]) for e in log] == [(mw["walkers"], "post_hidden")]
    everything = mw["admin"].get(f"{API}/moderation/audit?action=post_hidden").get_json()["items"]
    assert {e["space_id"] for e in everything} == {mw["walkers"], mw["rivals"]}
    # The space moderator reads only their space's log.
    assert mw["moderator"].get(f"{API}/spaces/{mw['public']}/moderation/audit?action=post_hidden").get_json()["items"] == []
    assert mw["moderator"].get(f"{API}/spaces/{mw['walkers']}/moderation/audit").status_code == 403


def test_analysts_never_see_private_conversations(mw):
    analyst = mw["analyst"]
    thread_id, post_id = mw["threads"]["private"]
    for path in (f"/spaces/{mw['private']}", f"/spaces/{mw['private']}/threads", f"/threads/{thread_id}/posts",
                 f"/posts/{post_id}", f"/spaces/{mw['private']}/moderation/queue", f"/spaces/{mw['private']}/moderation/audit",
                 f"/spaces/{mw['private']}/moderation/settings", f"/posts/{post_id}/moderation"):
        assert analyst.get(API + path).status_code == 404, path
    # Their brand's reports are theirs to read; its moderation queue and log are not.
    assert analyst.get(f"{API}/brands/{mw['brand']}/moderation/queue").status_code == 403
    assert analyst.get(f"{API}/brands/{mw['brand']}/moderation/audit").status_code == 403


def test_export_and_erasure_cover_moderation_data(mw):
    from tests.helpers import PASSWORD

    member, poster = mw["member"], mw["poster"]
    _thread, post_id = mw["threads"]["public"]
    assert member.post(f"{API}/posts/{post_id}/flags", json={"reason": "other", "text": "my own words"}).status_code == 201
    assert member.put(f"{API}/me/blocks/{poster.id}").status_code == 201
    assert poster.put(f"{API}/me/mutes/{member.id}").status_code == 201
    exported = member.get(f"{API}/me/export").get_json()["moderation"]
    assert [(f["post_id"], f["text"]) for f in exported["flags"]] == [(post_id, "my own words")]
    assert [(m["kind"], m["target_id"]) for m in exported["mutes_and_blocks"]] == [("block", poster.id)]
    assert member.delete(f"{API}/me", json={"password": PASSWORD}).status_code == 204
    queue = mw["moderator"].get(f"{API}/spaces/{mw['public']}/moderation/queue").get_json()["items"]
    assert [(f["reason"], f["text"]) for f in queue[0]["flags"]] == [("other", None)]  # the flag counts, its words are gone
    assert poster.get(f"{API}/me/mutes").get_json()["items"] == []
