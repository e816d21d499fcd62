"""A believable demo community: one brand, a life-purpose and a societal-purpose space, and the
brand's customers, nonuser stakeholders and events (devtools/demo_people.py); an upcoming event with
answers, ideas with votes and statuses, and badges (devtools/demo_wings.py).

``flask seed-demo`` (devtools/cli.py, which adds the synthetic community at
scale) builds it through the same service functions the API uses, so the
demo exercises the real paths (sequences, mentions, reactions). All demo accounts share
the password ``DEMO_PASSWORD``; the README says so. Deterministic for a given seed.
"""

from __future__ import annotations

import random

from sqlalchemy import func, select

from community.conversations import service
from community.models import SpaceRole, Visibility
from core.accounts import Account, GlobalRole, hash_password
from core.extensions import db
from devtools.demo_people import seed_demo_people
from devtools.demo_wings import seed_demo_wings
from purpose.models import Brand, BrandStaff, Purpose, PurposeKind, StaffRole

DEMO_PASSWORD = "demo-password-2026"
#: The demo admin, whose login ``python app.py`` prints on every start.
DEMO_ADMIN_EMAIL = "admin@demo.example"
_FIRST = "Ana Ben Chloe Dev Emi Femi Gus Hana Ivo Jade Kai Lena Milo Nia Omar Pia Quinn Rosa Sami Tara Uli Vera Wes Xia Yuri Zoe".split()
_LAST = "Reyes Okafor Lind Patel Sato Adeyemi Berg Kim Novak Ward Moana Fischer Costa Diallo".split()
_LIFE_THREADS = [
    ("First 5k in six weeks: who's in?", "I'm starting the couch-to-5k plan on Monday. Anyone want to keep each other honest?"),
    ("Best stretches after a long trail run", "My calves are wrecked after Sunday's 14k. What do you all do?"),
    ("Rainy-day indoor workouts", "Share your favourite 20-minute routines for when the trails are mud."),
]
_SOCIETAL_THREADS = [
    ("Beach clean-up this Saturday at Shell Cove", "We meet 9:00 at the car park. Gloves and bags provided."),
    ("How much plastic did we collect in October?", "Tallying the numbers from all four clean-ups: share your counts here."),
    ("Ideas: refill stations in our stores", "What if every store had a refill station for bottles? Thoughts?"),
]
_REPLIES = [
    "Count me in!", "Great idea, {mention}, what do you think?", "Did this last year, happy to help.",
    "Thanks for organising this.", "I'll bring a friend along.", "Love this community.",
    "Can we do an evening one too?", "{mention} you should lead the next one!",
]
_EMOJIS = ["👍", "❤️", "🎉", "🌊", "🏃"]


def _accounts(rng: random.Random, count: int) -> list[Account]:
    password_hash = hash_password(DEMO_PASSWORD)
    admin = Account(email=DEMO_ADMIN_EMAIL, handle="demo_admin", display_name="Demo Admin",
                    password_hash=password_hash, role=GlobalRole.admin)
    analyst = Account(email="analyst@demo.example", handle="demo_analyst", display_name="Ada Analyst",
                      password_hash=password_hash, role=GlobalRole.analyst)
    people = [admin, analyst]
    for i in range(count):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        handle = f"{first}_{last}_{i}".lower()
        people.append(Account(email=f"{handle}@demo.example", handle=handle, display_name=f"{first} {last}",
                              password_hash=password_hash))
    db.session.add_all(people)
    db.session.flush()
    return people


def _converse(rng: random.Random, space, members: list[Account], threads: list[tuple[str, str]]) -> None:
    for title, body in threads:
        thread = service.do_create_thread(rng.choice(members), space, title, body)
        posts = []
        for _ in range(rng.randint(4, 9)):
            author, other = rng.sample(members, 2)
            text = rng.choice(_REPLIES).format(mention=f"@{other.handle}")
            parent = rng.choice(posts).id if posts and rng.random() < 0.5 else None
            posts.append(service.do_create_post(author, thread, space, text, parent)[0])
        for post in posts:
            for reactor in rng.sample(members, rng.randint(0, 4)):
                service.do_react(reactor, post, space, rng.choice(_EMOJIS))


def seed_demo(*, members: int = 36, seed: int = 7) -> Brand:
    """Create the demo brand, purposes, spaces, members and conversations; returns the brand."""
    rng = random.Random(seed)
    people = _accounts(rng, members)
    admin = people[0]
    brand = Brand(name="Northwind Outdoor Co.", description="Outdoor gear for people who care where they play.")
    db.session.add(brand)
    db.session.flush()
    manager = people[2]
    db.session.add_all([BrandStaff(brand_id=brand.id, account_id=manager.id, role=StaffRole.manager),
                        BrandStaff(brand_id=brand.id, account_id=people[1].id, role=StaffRole.analyst)])  # the demo analyst
    life = Purpose(brand_id=brand.id, kind=PurposeKind.life, title="Get fit outdoors",
                   statement="Help everyone reach their own fitness goals on the trails.", tags=["fitness", "running", "hiking"])
    societal = Purpose(brand_id=brand.id, kind=PurposeKind.societal, title="Clean oceans",
                       statement="Keep our coasts free of plastic, one clean-up at a time.", tags=["ocean-cleanup", "plastic-free"])
    db.session.add_all([life, societal])
    db.session.commit()
    spaces = [
        service.do_create_space(manager, life, {"name": "Trail Running Crew", "slug": "trail-running-crew",
                                                "description": "Training plans, routes and encouragement.", "visibility": Visibility.public}),
        service.do_create_space(manager, societal, {"name": "Ocean Clean-up", "slug": "ocean-clean-up",
                                                    "description": "Organise and report beach clean-ups.", "visibility": Visibility.public}),
    ]
    crews = []
    for space, threads in zip(spaces, (_LIFE_THREADS, _SOCIETAL_THREADS)):
        joined = [manager] + rng.sample(people[3:], k=min(len(people) - 3, rng.randint(members // 2, members - 4)))
        crews.append((space, joined))
        for person in joined[1:]:
            service.do_join(person, space)
        service.do_set_member(admin, space, joined[1].id, SpaceRole.moderator)
        _converse(rng, space, joined, threads)
    db.session.commit()  # a dev tool is its own boundary: the actions above only flushed
    seed_demo_people(brand, seed=seed)
    seed_demo_wings(brand.id, crews, seed=seed)  # an upcoming event with answers, ideas with votes, badges
    return brand


def seed_demo_if_empty() -> bool:
    """Seed the demo when there are no accounts yet (first run of the embedded platform)."""
    if db.session.scalar(select(func.count()).select_from(Account)):
        return False
    seed_demo()
    print(f"Seeded the demo community. Log in as {DEMO_ADMIN_EMAIL} / {DEMO_PASSWORD}", flush=True)
    return True

