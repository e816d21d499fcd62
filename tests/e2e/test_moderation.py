"""Moderators in a real browser: a member flags a post, a moderator hides it from the queue and
it vanishes for the member at once; the audit log shows the action; a locked thread takes no posts."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import open_thread, require_endpoints


def test_flag_hide_vanish_audit_and_lock(open_as, community, shot):
    require_endpoints(community["server"], "/posts/{post_id}/flags", "/posts/{post_id}/hide",
                      "/spaces/{space_id}/moderation/queue", "/spaces/{space_id}/moderation/audit", "/threads/{thread_id}/lock")
    community["call"]("POST", f"/threads/{community['thread']}/posts", community["ana"]["token"], json={"body": "Cheap watches here!"})
    ben, moe = open_as("ben"), open_as("moe")
    open_thread(ben, "Runners", "Saturday long run")
    spam = ben.locator(".posts .post").filter(has_text="Cheap watches here!")
    spam.get_by_role("button", name="Flag").click()
    dialog = ben.get_by_role("dialog")
    dialog.get_by_label("Why?").select_option("spam")
    dialog.get_by_label("Details (optional)").fill("Selling watches")
    dialog.get_by_role("button", name="Send flag").click()
    expect(spam.get_by_role("button", name="Flagged")).to_be_disabled()

    moe.get_by_role("link", name="Moderation").click()
    moe.get_by_label("Space").select_option(label="Runners")
    item = moe.locator(".posts .post").filter(has_text="Cheap watches here!")
    expect(item).to_contain_text("spam")
    shot(moe, "queue")
    item.get_by_role("button", name="Hide post").click()
    moe.get_by_role("dialog").get_by_label("Reason").fill("Advertising is not allowed here")
    moe.get_by_role("dialog").get_by_role("button", name="Hide post").click()

    expect(spam).to_have_count(0)  # gone for the member, live
    expect(ben.locator(".posts .post .body")).to_have_text(["Who is in for 20k?"])
    shot(ben, "after-hide")

    moe.get_by_role("link", name="Audit log").click()
    moe.get_by_label("Space").select_option(label="Runners")
    expect(moe.get_by_role("row").filter(has_text="Advertising is not allowed here")).to_contain_text(re.compile("hid", re.I))
    shot(moe, "audit-log")

    moe.get_by_role("link", name="Spaces").click()
    open_thread(moe, "Runners", "Saturday long run")
    moe.get_by_role("button", name="Lock thread").click()
    moe.get_by_role("dialog").get_by_label("Reason").fill("The run is over")
    moe.get_by_role("dialog").get_by_role("button", name="Lock thread").click()
    expect(ben.get_by_text("This thread is locked: no new posts.")).to_be_visible()
    expect(ben.get_by_label("Your message")).to_have_count(0)
    shot(ben, "locked")
