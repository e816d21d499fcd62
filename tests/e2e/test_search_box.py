"""Search in a real browser: a member searches, sees the match highlighted, and lands on the post in its thread."""

from __future__ import annotations

from playwright.sync_api import expect


def test_member_searches_and_opens_the_post(open_as, community, shot):
    call = community["call"]
    found = call("POST", f"/threads/{community['thread']}/posts", community["ben"]["token"],
                 json={"body": "Bring <b>gels</b> and water for the long run."})
    ana = open_as("ana")
    ana.get_by_role("link", name="Search").click()
    ana.get_by_role("searchbox", name="Search").fill("gels")
    ana.get_by_role("searchbox", name="Search").press("Enter")
    hit = ana.locator(".search-hit")
    expect(hit).to_have_count(1)
    expect(hit.locator("mark")).to_have_text("gels")
    expect(hit.locator("b")).to_have_count(0)  # the text's markup stays text
    shot(ana, "search-results")
    hit.get_by_role("link", name="Saturday long run").click()
    expect(ana.get_by_role("heading", name="Saturday long run", level=2)).to_be_visible()
    target = ana.locator(f"#post-{found['id']}")
    expect(target).to_be_focused()
    expect(target).to_have_class("post target")
