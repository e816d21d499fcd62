"""Known nonuser stakeholders become members when they register, and the conversion is recorded."""

from __future__ import annotations

from sqlalchemy import select

from core.extensions import db
from purpose.models import Brand, Stakeholder, StakeholderKind
from purpose.stakeholders import email_hash
from tests.helpers import register


def _stakeholder(brand_name: str, email: str, kind: StakeholderKind, source: str = "import") -> int:
    brand = db.session.scalar(select(Brand).where(Brand.name == brand_name))
    if brand is None:
        brand = Brand(name=brand_name)
        db.session.add(brand)
        db.session.flush()
    person = Stakeholder(brand_id=brand.id, kind=kind, email=email, email_hash=email_hash(email), source=source)
    db.session.add(person)
    db.session.commit()
    return person.id


def test_registration_links_known_nonusers_in_every_brand_and_records_conversion(app, client):
    with app.app_context():
        invited = _stakeholder("Tidewater", "Nia@Example.com", StakeholderKind.invited)
        attendee = _stakeholder("Seabird", "nia@example.com ", StakeholderKind.event_attendee)
        other = _stakeholder("Tidewater", "someone.else@example.com", StakeholderKind.prospect)
    actor = register(client, "nia")  # registers nia@example.com
    with app.app_context():
        linked = {s.id: s for s in db.session.scalars(select(Stakeholder).where(Stakeholder.account_id == actor.id))}
        assert set(linked) == {invited, attendee}
        assert linked[invited].kind is StakeholderKind.member
        assert linked[invited].converted_from is StakeholderKind.invited and linked[invited].converted_at is not None
        assert linked[attendee].converted_from is StakeholderKind.event_attendee
        assert db.session.get(Stakeholder, other).account_id is None


def test_registration_links_one_stakeholder_per_brand_when_two_sources_know_the_email(app, client):
    """A brand may know one address from two sources (its CRM and an event list); the account
    becomes one of them (the earliest stored), registration still succeeds, and the other row is
    left as it was rather than breaking the one-account-per-brand rule."""
    with app.app_context():
        first = _stakeholder("Tidewater", "ola@example.com", StakeholderKind.prospect, source="crm")
        second = _stakeholder("Tidewater", "ola@example.com", StakeholderKind.event_attendee, source="events")
    actor = register(client, "ola")
    with app.app_context():
        assert db.session.get(Stakeholder, first).account_id == actor.id
        assert db.session.get(Stakeholder, first).kind is StakeholderKind.member
        left = db.session.get(Stakeholder, second)
        assert left.account_id is None and left.kind is StakeholderKind.event_attendee


def test_email_hash_is_keyed_and_normalised(app, make_app):
    with app.app_context():
        assert email_hash(" A@Example.COM") == email_hash("a@example.com")
        first = email_hash("a@example.com")
    with make_app(SECRET_KEY="another-secret-that-is-long-enough-to-use-here").app_context():
        assert email_hash("a@example.com") != first
