"""The demo brand's relationship data: what an analyst's first report needs to show something real.

Without it the demo's report sees only posts: every person a light user, no nonusers, the same
reason for everyone. ``seed_demo_people`` brings in what a brand's CRM, shop and event lists
would, through the same paths a brand uses (``purpose.imports``: a stakeholder file, then a
touchpoint file; members linked to their accounts by ``link_registration``, as when a known
customer signs up):

- every member as a customer whose purchases follow how much they take part: the most active
  buy often and recently (heavy), then medium and light; members who never posted or reacted
  bought only more than a year ago (lapsed);
- nonuser stakeholders: friends members referred, event guests, partner NGO contacts,
  neighbours of a store, customers who never joined, several with a declared purpose;
- three events (named by ``event_ref``, each under a purpose) that members and nonusers attend
  together, so co-attendance ties nonusers to heavy users;
- declared purposes and the relationship style each person asked for.

Touchpoints spread over the last two years, so a report ``as_of`` a month ago and one today
differ (the comparison shows movement). Deterministic for a given seed.
"""

from __future__ import annotations

import io
import json
import random
from datetime import datetime, timedelta

from sqlalchemy import func, select

from community.models import Membership, Post, Reaction, Space
from core.accounts import Account
from core.extensions import utcnow, db
from purpose.imports import import_stakeholders, import_touchpoints
from purpose.models import Brand, Purpose
from purpose.stakeholders import link_registration

#: Purchases per segment: (fewest, most, typical amount in EUR, newest and oldest age in days).
_PURCHASES = {"heavy": (8, 14, 120.0, 1, 300), "medium": (3, 6, 60.0, 5, 300), "light": (1, 2, 18.0, 10, 300),
              "lapsed": (1, 3, 45.0, 400, 700)}
_STYLE = {"heavy": "marriage", "medium": "friendship", "light": "fling", "lapsed": None}
#: The nonusers: (kind, how many, what they do).
_NONUSERS = (("invited", 5, "referred"), ("event_attendee", 5, "guest"), ("ngo", 2, "guest"),
             ("local_community", 2, "guest"), ("customer", 3, "buyer"))
_FIRST = "Aino Bram Cleo Dario Elif Finn Greta Hugo Ines Joon Kira Luca Maren Nils Olga Priya Rafa Sven".split()
_LAST = "Aalto Brandt Castro Dahl Eze Fontaine Gallo Haas Ito Jensen Kowalski Laine".split()


def _segments(members: list[Account]) -> dict[int, str]:
    """Each member's purchasing segment, from how much they take part (posts, then reactions given):
    the most active fifth heavy, the next three tenths medium, the other active ones light, and
    those who never posted or reacted lapsed."""
    ids = [m.id for m in members]
    posts = dict(db.session.execute(select(Post.author_id, func.count()).where(Post.author_id.in_(ids))
                                    .group_by(Post.author_id)).all())
    reactions = dict(db.session.execute(select(Reaction.account_id, func.count()).where(Reaction.account_id.in_(ids))
                                        .group_by(Reaction.account_id)).all())
    active = sorted((m for m in members if posts.get(m.id) or reactions.get(m.id)),
                    key=lambda m: (-posts.get(m.id, 0), -reactions.get(m.id, 0), m.id))
    segment = {m.id: "lapsed" for m in members}
    for i, m in enumerate(active):
        share = i / len(active)
        segment[m.id] = "heavy" if share < 0.2 else "medium" if share < 0.5 else "light"
    return segment


def _when(now: datetime, days: float) -> str:
    return (now - timedelta(days=days)).isoformat()


def seed_demo_people(brand: Brand, *, seed: int = 7) -> dict[str, int]:
    """Import the demo brand's stakeholders and touchpoints; returns how many of each were stored."""
    rng, now = random.Random(seed + 1), utcnow()
    purposes = {p.kind.value: p for p in db.session.scalars(select(Purpose).where(Purpose.brand_id == brand.id))}
    home = dict(db.session.execute(select(Membership.account_id, Purpose.title).join(Space, Space.id == Membership.space_id)
                                   .join(Purpose, Purpose.id == Space.purpose_id).where(Purpose.brand_id == brand.id)).all())
    members = list(db.session.scalars(select(Account).where(Account.id.in_(home)).order_by(Account.id)))
    segment = _segments(members)
    people, touchpoints = [], []

    def touch(who: str, kind: str, days: float, **extra) -> None:
        touchpoints.append({"external_id": f"t-{len(touchpoints) + 1}", "stakeholder_external_id": who, "kind": kind,
                            "occurred_at": _when(now, days), **extra})

    for m in members:
        seg, key = segment[m.id], f"crm-{m.id}"
        people.append({"external_id": key, "kind": "member", "email": m.email, "display_name": m.display_name,
                       "legal_basis": "consent", "contact_preference": _STYLE[seg],
                       "purposes": [home[m.id]] if seg != "lapsed" and rng.random() < 0.7 else []})
        fewest, most, amount, newest, oldest = _PURCHASES[seg]
        for _ in range(rng.randint(fewest, most)):
            touch(key, "purchase", rng.uniform(newest, oldest), amount=round(rng.gammavariate(4.0, amount / 4.0), 2),
                  currency="EUR")
    by_segment = {s: [f"crm-{m.id}" for m in members if segment[m.id] == s] for s in _PURCHASES}
    nonusers: dict[str, list[str]] = {"referred": [], "guest": [], "buyer": []}
    for kind, count, role in _NONUSERS:
        for _ in range(count):
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            key = f"crm-n{len(people) + 1}"
            declared = [rng.choice(list(purposes.values())).title] if role != "buyer" or rng.random() < 0.5 else []
            people.append({"external_id": key, "kind": kind, "email": f"{first}.{last}.{len(people)}@guest.example".lower(),
                           "display_name": f"{first} {last}", "legal_basis": "legitimate_interest",
                           "contact_preference": rng.choice(["fling", "friendship", None]), "purposes": declared})
            nonusers[role].append(key)
    for friend in nonusers["referred"]:  # a heavy or medium member brought each friend
        touch(rng.choice(by_segment["heavy"] + by_segment["medium"]), "referral", rng.uniform(5, 120),
              other_stakeholder_external_id=friend)
    for key in nonusers["buyer"]:
        for _ in range(rng.randint(2, 5)):
            touch(key, "purchase", rng.uniform(3, 250), amount=round(rng.gammavariate(4.0, 15.0), 2), currency="EUR")
    events = (("shell-cove-cleanup-2026-10", "societal", 60, 8), ("trail-5k-2026-09", "life", 90, 10),
              ("refill-workshop-2026-11", "societal", 20, 6))
    for ref, purpose_kind, days, n_members in events:
        active = by_segment["heavy"] + by_segment["medium"] + by_segment["light"]
        attendees = rng.sample(by_segment["heavy"], min(3, len(by_segment["heavy"])))
        attendees += rng.sample([k for k in active if k not in attendees], min(n_members - len(attendees), len(active) - len(attendees)))
        attendees += rng.sample(nonusers["guest"], 4) + rng.sample(nonusers["referred"], 1)
        for key in attendees:
            touch(key, "event", days, event_ref=ref, purpose=purposes[purpose_kind].title)

    stored = import_stakeholders(io.StringIO("".join(json.dumps(p) + "\n" for p in people)), "jsonl",
                                 brand_id=brand.id, source="crm")
    for m in members:
        link_registration(m)
    events_in = import_touchpoints(io.StringIO("".join(json.dumps(t) + "\n" for t in touchpoints)), "jsonl",
                                   brand_id=brand.id, source="shop", stakeholder_source="crm")
    if stored.rejected or events_in.rejected:  # the demo's own rows: a rejection is a bug here
        raise RuntimeError(f"demo rows rejected: {stored.errors + events_in.errors}")
    return {"stakeholders": stored.accepted, "touchpoints": events_in.accepted}
