"""Notifications in a real browser: the bell counts a mention live, the inbox lists it and marks
it read, and the space view's selector sets the member's level for the space."""

from __future__ import annotations

from playwright.sync_api import expect


def test_bell_inbox_and_space_level(open_as, community, shot):
    call = community["call"]
    ana = open_as("ana")
    bell = ana.locator("#bell-count")
    expect(bell).to_be_hidden()
    call("POST", f"/threads/{community['thread']}/posts", community["ben"]["token"], json={"body": "@ana count me in"})
    expect(bell).to_have_text("1")  # live, from the socket's notification event
    ana.locator("#bell").click()
    entry = ana.locator(".inbox .notification.unread")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("@ben mentioned you")
    shot(ana, "inbox")
    ana.get_by_role("button", name="Mark all read").click()
    expect(bell).to_be_hidden()
    expect(ana.locator(".inbox .unread")).to_have_count(0)

    ana.goto(ana.url.split("#")[0] + f"#/spaces/{community['runners']}")
    selector = ana.get_by_label("Notify me")
    expect(selector).to_have_value("normal")
    with ana.expect_response(lambda r: r.request.method == "PUT" and r.url.endswith("/notification-level")) as saved:
        selector.select_option("watching")
    assert saved.value.ok
    level = call("GET", f"/spaces/{community['runners']}/notification-level", community["ana"]["token"])
    assert level == {"level": "watching", "chosen": True}
