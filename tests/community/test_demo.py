"""``flask seed-demo`` builds a believable community a newcomer can look at."""

from __future__ import annotations

from sqlalchemy import func, select

from community.models import Mention, Post, Reaction, Space, Thread
from core.accounts import Account
from core.extensions import db
from purpose.models import Purpose


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_seed_demo_command_builds_both_kinds_of_space(app):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--members", "30"])
    assert result.exit_code == 0, result.output
    assert "admin@demo.example" in result.output
    with app.app_context():
        kinds = set(db.session.scalars(select(Purpose.kind).join(Space, Space.purpose_id == Purpose.id)))
        assert {k.value for k in kinds} == {"life", "societal"}
        assert _count(Account) == 32
        assert _count(Thread) == 6 + 3  # the conversations, and the threads of three ideas
        assert _count(Post) > 6 + 20
        assert _count(Post, Post.parent_id.is_not(None)) > 0
        assert _count(Reaction) > 0 and _count(Mention) > 0
        _upper_pyramid_is_there()
    again = app.test_cli_runner().invoke(args=["seed-demo", "--if-empty"])
    assert "nothing seeded" in again.output


def _upper_pyramid_is_there() -> None:
    """An upcoming event with answers and a waitlist, ideas with votes in several statuses, badges held."""
    from events.models import Attendee, AttendeeStatus, Event
    from ideas.models import Idea
    from recognition.models import Badge, BadgeGrant
    from core.extensions import utcnow

    upcoming = db.session.scalars(select(Event).where(Event.starts_at > utcnow())).all()
    assert len(upcoming) == 2
    statuses = {s for (s,) in db.session.execute(select(Attendee.status))}
    assert {AttendeeStatus.going, AttendeeStatus.waitlisted} <= statuses
    assert _count(Attendee, Attendee.status == AttendeeStatus.going) >= 6
    ideas = db.session.scalars(select(Idea)).all()
    assert {i.status.value for i in ideas} == {"planned", "shipped", "under_review"} and all(i.votes > 0 for i in ideas)
    held = {key for (key,) in db.session.execute(select(Badge.key).join(BadgeGrant, BadgeGrant.badge_id == Badge.id))}
    assert {"idea_shipped", "beach_hero"} <= held and len(held) >= 3


def test_demo_admin_can_log_in_and_read_the_spaces(app, client):
    from devtools.demo import DEMO_PASSWORD, seed_demo_if_empty

    with app.app_context():
        assert seed_demo_if_empty() is True
        assert seed_demo_if_empty() is False
    login = client.post("/api/v1/auth/login", json={"email": "admin@demo.example", "password": DEMO_PASSWORD})
    token = login.get_json()["access_token"]
    spaces = client.get("/api/v1/spaces", headers={"Authorization": f"Bearer {token}"}).get_json()["items"]
    assert {s["slug"] for s in spaces} == {"trail-running-crew", "ocean-clean-up"}


def test_prune_events_command_keeps_recent_events(app):
    from community.models import SpaceEvent

    runner = app.test_cli_runner()
    runner.invoke(args=["seed-demo", "--members", "10"])
    with app.app_context():
        before = _count(SpaceEvent)
    assert before > 0
    assert "Pruned 0 space events" in runner.invoke(args=["prune-events"]).output
    assert f"Pruned {before} space events" in runner.invoke(args=["prune-events", "--older-than-days", "0"]).output


def test_commands_on_a_database_without_tables_say_to_upgrade_first(tmp_path):
    from app import create_app

    fresh = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}", "SECRET_KEY": "x" * 40})
    runner = fresh.test_cli_runner()
    for args in (["seed-demo"], ["prune-events"], ["import-stakeholders", __file__, "--brand", "1"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 1, (args, result.output)
        assert "run `flask --app app db upgrade` first" in result.output, (args, result.output)


def test_the_demo_analysts_first_report_shows_every_segment_nonusers_and_checkable_reasons(app, client, finished):
    from devtools.demo import DEMO_PASSWORD, seed_demo_if_empty

    with app.app_context():
        assert seed_demo_if_empty() is True
    login = client.post("/api/v1/auth/login", json={"email": "analyst@demo.example", "password": DEMO_PASSWORD})
    headers = {"Authorization": f"Bearer {login.get_json()['access_token']}"}
    brand = client.get("/api/v1/brands", headers=headers).get_json()["items"][0]
    people = client.get(f"/api/v1/brands/{brand['id']}/segments", headers=headers)
    assert people.status_code == 200, people.get_json()
    requested = client.post("/api/v1/reports", json={"brand_id": brand["id"], "top": 30}, headers=headers)
    assert requested.status_code == 202, requested.get_json()
    finished(requested.get_json()["id"])
    result = client.get(f"/api/v1/reports/{requested.get_json()['id']}/result", headers=headers).get_json()
    assert all(result["segments"].get(s) for s in ("heavy", "medium", "light", "lapsed", "nonuser")), result["segments"]
    opportunities = result["opportunities"]
    nonusers = [o for o in opportunities if o["node"].startswith("s:")]
    assert nonusers and any(o["rank"] <= 20 for o in nonusers)
    # Reasons name the evidence (an event by its reference, a heavy user by name) and differ between
    # people (guests of one event with the same heavy users share theirs).
    reasons = ["; ".join(o["reasons"]) for o in opportunities]
    assert any("refill-workshop-2026-11" in r or "shell-cove-cleanup-2026-10" in r or "trail-5k-2026-09" in r for r in reasons)
    assert len(set(reasons)) > len(reasons) / 2 and len({o["suggested_action"] for o in opportunities}) >= 3
