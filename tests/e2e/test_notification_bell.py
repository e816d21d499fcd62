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


def test_a_tracked_thread_shows_how_many_posts_are_new_until_it_is_read(open_as, community, shot):
    call, thread = community["call"], community["thread"]
    ana_token, ben_token = community["ana"]["token"], community["ben"]["token"]
    call("PUT", f"/threads/{thread}/notification-level", ana_token, json={"level": "tracking"})
    call("POST", f"/threads/{thread}/read", ana_token, json={})  # read up to now
    for body in ("First news", "Second news"):
        call("POST", f"/threads/{thread}/posts", ben_token, json={"body": body})
    ana = open_as("ana")
    ana.goto(ana.url.split("#")[0] + f"#/spaces/{community['runners']}")
    item = ana.locator(f"li[data-thread='{thread}']")
    expect(item.get_by_label("2 new")).to_have_text("2")
    shot(ana, "unread-thread")
    with ana.expect_response(lambda r: r.request.method == "POST" and r.url.endswith(f"/threads/{thread}/read")) as read:
        item.get_by_role("link").click()
        expect(ana.get_by_text("Second news")).to_be_visible()
    assert read.value.ok
    ana.goto(ana.url.split("#")[0] + f"#/spaces/{community['runners']}")
    expect(ana.locator(f"li[data-thread='{thread}']")).to_be_visible()
    expect(ana.locator(f"li[data-thread='{thread}'] .unread-count")).to_have_count(0)
