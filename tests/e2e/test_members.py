"""Members in a real browser: chat in real time, typing and presence, reactions, catching up
after a dropped connection, browsing by purpose and joining, keyboard use and a phone screen."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, open_thread, post_texts


def _send(page, text: str) -> None:
    page.get_by_label("Your message").fill(text)
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_label("Your message")).to_have_value("")


def test_two_members_chat_in_real_time(open_as, community, shot):
    ana, ben = open_as("ana"), open_as("ben")
    for page in (ana, ben):
        open_thread(page, "Runners", "Saturday long run")
    expect(ben.locator(".presence")).to_contain_text("2 online")
    expect(ben.locator(".presence")).to_contain_text("Ana")

    ana.get_by_label("Your message").press_sequentially("I'm in")
    expect(ben.locator(".typing")).to_have_text("Ana is typing…")
    ana.get_by_label("Your message").fill("I'm in! <b>not bold</b>")
    ana.get_by_role("button", name="Send").click()
    expect(ben.locator(".posts .post").last.locator(".body")).to_have_text("I'm in! <b>not bold</b>")
    expect(ben.locator(".posts b")).to_have_count(0)  # bodies are text, never markup
    expect(ben.locator(".typing")).to_have_text("")

    ben.locator(".posts .post").last.get_by_role("button", name="Reply").click()
    expect(ben.locator(".reply-note")).to_contain_text("Replying to Ana")
    _send(ben, "Great, see you at 8")
    reply = ana.locator(".posts .post").last
    expect(reply.locator(".body")).to_have_text("Great, see you at 8")
    expect(reply.locator(".reply-to")).to_contain_text("Replying to Ana")

    reply.get_by_role("button", name=re.compile("^React 👍")).click()
    liked = ben.locator(".posts .post").last.get_by_role("button", name=re.compile("^React 👍"))
    expect(liked).to_have_text("👍 1")
    expect(reply.get_by_role("button", name=re.compile("^React 👍"))).to_have_attribute("aria-pressed", "true")
    assert post_texts(ana) == post_texts(ben) == ["Who is in for 20k?", "I'm in! <b>not bold</b>", "Great, see you at 8"]
    shot(ana, "thread-ana")
    shot(ben, "thread-ben")


def test_member_offline_catches_up_once_and_in_order(open_as, community, shot):
    ana, ben = open_as("ana"), open_as("ben")
    for page in (ana, ben):
        open_thread(page, "Runners", "Saturday long run")
    _send(ana, "before the tunnel")
    expect(ben.locator(".posts .post")).to_have_count(2)

    ben.context.set_offline(True)
    expect(ben.locator("#connection")).to_have_text("Offline: reconnecting…")
    shot(ben, "offline")
    missed = [f"while you were away {i}" for i in range(1, 4)]
    for text in missed:
        _send(ana, text)
    expect(ana.locator(".posts .post")).to_have_count(5)
    assert post_texts(ben) == ["Who is in for 20k?", "before the tunnel"]  # nothing arrives while offline

    ben.context.set_offline(False)
    expect(ben.locator("#connection")).to_have_text("Live again; 3 missed update(s) caught up")
    expected = ["Who is in for 20k?", "before the tunnel", *missed]
    expect(ben.locator(".posts .post .body")).to_have_text(expected)  # each once, in order

    _send(ben, "back online")  # and the connection works both ways again
    expect(ana.locator(".posts .post .body")).to_have_text([*expected, "back online"])
    shot(ben, "caught-up")


@pytest.mark.parametrize("community", [{"SOCKETIO_MAX_CONNECTIONS_PER_ACCOUNT": 1}], indirect=True)
def test_a_tab_over_the_connection_limit_says_why_and_stays_signed_in(open_as, community, shot):
    first = open_as("ana")
    second = open_as("ana", expect_live=False)
    expect(second.locator("#connection")).to_have_text(re.compile("Too many tabs or devices are connected"))
    expect(second.get_by_role("heading", name="Spaces", level=2)).to_be_visible()  # not sent back to the login form
    shot(second, "second-tab")
    expect(first.locator("#connection")).to_have_text("Live")


def test_browse_by_purpose_join_and_start_a_thread(open_as, community, shot):
    carl = open_as("carl")
    expect(carl.get_by_role("heading", name=re.compile("^Run"), level=3)).to_be_visible()
    carl.get_by_label("Show").select_option("societal")
    expect(carl.get_by_role("heading", name=re.compile("^Oceans"), level=3)).to_be_visible()
    expect(carl.get_by_role("link", name="Runners")).to_have_count(0)
    shot(carl, "spaces-societal")

    carl.get_by_role("link", name="Beach clean-ups").click()
    expect(carl.get_by_text("Join to post, start threads and react.")).to_be_visible()
    expect(carl.get_by_role("button", name="Start thread")).to_have_count(0)
    carl.get_by_role("button", name="Join this space").click()
    expect(carl.get_by_text("You are a member here.")).to_be_visible()

    carl.get_by_label("Title").fill("Gloves and bags")
    carl.get_by_label("First post").fill("I can bring twenty pairs.")
    carl.get_by_role("button", name="Start thread").click()
    expect(carl.get_by_role("heading", name="Gloves and bags", level=2)).to_be_visible()
    expect(carl.locator(".posts .post .body")).to_have_text(["I can bring twenty pairs."])
    shot(carl, "new-thread")


def test_a_thread_started_elsewhere_appears_live_in_the_space(open_as, community):
    ana, ben = open_as("ana"), open_as("ben")
    ben.get_by_role("link", name="Runners").click()
    expect(ben.get_by_role("link", name="Saturday long run")).to_be_visible()
    community["call"]("POST", f"/spaces/{community['runners']}/threads", community["ana"]["token"],
                      json={"title": "Trail shoes", "body": "Recommendations?"})
    expect(ben.locator(".threads li").first).to_contain_text("Trail shoes")
    open_thread(ana, "Runners", "Saturday long run")
    _send(ana, "bump")
    expect(ben.locator(".threads li").first).to_contain_text("Saturday long run")  # latest activity first


def _tab_to(page, name: str, *, presses: int = 30) -> None:
    """Press Tab until the control or link called ``name`` has the focus (as a keyboard user would)."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("(document.activeElement.ariaLabel || document.activeElement.innerText || '').trim()") == name:
            return
    raise AssertionError(f"{name!r} cannot be reached with the Tab key")


def test_keyboard_only_on_a_phone_sized_screen(open_as, community, shot):
    page = open_as("ben", viewport=PHONE, log_in=False)
    expect(page.get_by_label("Email")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.type("ben@example.com")
    page.keyboard.press("Tab")
    page.keyboard.type("correct horse battery staple")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Spaces", level=2)).to_be_focused()

    _tab_to(page, "Runners")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none"), "the focused link shows no focus ring"
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Runners", level=2)).to_be_focused()
    _tab_to(page, "Saturday long run")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Saturday long run", level=2)).to_be_focused()
    _tab_to(page, "React 👍")
    page.keyboard.press("Enter")
    expect(page.locator(".post").first.get_by_role("button", name=re.compile("^React 👍"))).to_have_attribute("aria-pressed", "true")
    expect(page.locator(".post").first.get_by_role("button", name=re.compile("^React 👍"))).to_be_focused()  # kept after the update
    page.get_by_label("Your message").focus()
    page.keyboard.type("Typed without a mouse")
    page.keyboard.press("Control+Enter")
    expect(page.locator(".posts .post .body").last).to_have_text("Typed without a mouse")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "the page scrolls sideways at 375px"
    shot(page, "phone-thread")


def test_every_control_has_a_name(open_as, community):
    page = open_as("ana")
    open_thread(page, "Runners", "Saturday long run")
    unnamed = page.evaluate("""() => [...document.querySelectorAll('input, select, textarea, button')]
        .filter((el) => !el.closest('[hidden]') && !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                        && !(el.textContent || '').trim())
        .map((el) => el.outerHTML)""")
    assert unnamed == []
