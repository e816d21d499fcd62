"""The demo's upper pyramid: an upcoming event with answers and a waitlist, ideas with votes and statuses,
and badges (automatic by the recognition job, and one awarded by hand), all through the wings' own actions.

Called by ``devtools.demo.seed_demo`` with each space and the people who joined it (the manager first);
draws from its own random generator, so the conversations the demo had before stay as they were.
"""

from __future__ import annotations

import random
from datetime import timedelta

from community.models import Space
from core.accounts import Account
from core.extensions import db, utcnow
from events.models import AttendeeStatus, EventMode
from events.service import do_answer, do_create_event
from ideas.models import IdeaStatus
from ideas.service import do_set_status, do_submit, do_vote
from recognition.models import BadgeTier
from recognition.service import award_manual, create_brand_badge, run_recognition

_IDEAS = [
    ("Refill stations in every store", "Bring your bottle, fill it with filtered water for free.", IdeaStatus.planned,
     "We are piloting this in three stores next spring."),
    ("Gear library for clean-ups", "Lend out gloves, pickers and buckets so nobody has to buy them.", IdeaStatus.shipped,
     "Live in every store since this month: ask at the counter."),
    ("Trail-run shoe recycling", "Take back worn-out running shoes and recycle the soles.", IdeaStatus.under_review,
     "Talking to two recyclers about it."),
]


def seed_demo_wings(brand_id: int, crews: list[tuple[Space, list[Account]]], *, seed: int = 7) -> dict:
    """Events, ideas and badges for the demo brand; commits (a dev tool is its own boundary)."""
    rng = random.Random(seed * 31 + 1)
    (trail, runners), (ocean, cleaners) = crews
    manager = runners[0]
    start = (utcnow() + timedelta(days=10)).replace(hour=7, minute=0, second=0, microsecond=0)
    cleanup = do_create_event(manager, ocean, {
        "title": "Spring beach clean-up at Shell Cove", "description": "Gloves, bags and coffee provided. Meet at the car park.",
        "mode": EventMode.in_person, "location": "Shell Cove car park", "url": None, "starts_at": start,
        "ends_at": start + timedelta(hours=3), "time_zone": "Europe/Lisbon", "capacity": 8})
    talk_start = start + timedelta(days=4, hours=11)
    talk = do_create_event(manager, trail, {
        "title": "Live Q&A: training for your first trail half", "description": "Bring your questions.",
        "mode": EventMode.online, "location": None, "url": "https://meet.example/northwind-trail-qa",
        "starts_at": talk_start, "ends_at": talk_start + timedelta(hours=1), "time_zone": "Europe/London", "capacity": None})
    db.session.commit()
    answers = [AttendeeStatus.going] * 6 + [AttendeeStatus.maybe, AttendeeStatus.declined]
    for i, person in enumerate(rng.sample(cleaners[1:], k=min(len(cleaners) - 1, 16))):
        do_answer(person, cleanup.id, AttendeeStatus.going if i < 10 else rng.choice(answers))  # 8 seats: 2+ wait in line
        db.session.commit()
    for person in rng.sample(runners[1:], k=min(len(runners) - 1, 9)):
        do_answer(person, talk.id, rng.choice(answers))
        db.session.commit()

    ideas = []
    for title, body, status, reason in _IDEAS:
        idea = do_submit(rng.choice(cleaners[1:]), ocean, title, body)
        for voter in rng.sample(cleaners[1:], k=min(len(cleaners) - 1, rng.randint(4, 11))):
            if voter.id != idea.author_id:
                do_vote(voter, idea.id)
        db.session.commit()
        do_set_status(manager, idea.id, status, reason)
        db.session.commit()  # a shipped idea's author gets the idea_shipped badge after this commit
        ideas.append(idea.id)

    granted = run_recognition()["granted"]  # first post, reactions received, ... (commits)
    hero = create_brand_badge(manager, brand_id, key="beach_hero", name="Beach hero",
                              description="Organised a clean-up for the community.", tier=BadgeTier.gold)
    award_manual(manager, hero.id, cleaners[1].id, "Led the October clean-up at Shell Cove")
    db.session.commit()
    return {"events": [cleanup.id, talk.id], "ideas": ideas, "badges_granted": granted + 1}
