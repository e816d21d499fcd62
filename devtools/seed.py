"""Seed the database with a synthetic community at scale, and the ``flask seed-demo`` command.

``seed_synthetic`` writes ``graph.synthetic.generate_community(n, seed=...)`` into the
tables the loader reads, with Core bulk inserts in chunks (no ORM object per row, explicit
ids, one shared password hash for every synthetic account), in one transaction. Each
synthetic tie becomes the rows that make the same edge kinds when ``graph.load`` reads
them back ("Loading" and "Seeding" in ``docs/analytics.md``):

- reply, mention, reaction, co_thread between two members: a thread opened by one of them,
  with the other's replies and reactions in it and the opener's mentions of the other (so
  a pair with replies also shows one ``co_thread``), and one more thread both write in per
  further ``co_thread`` interaction;
- referral and invitation: touchpoints from one stakeholder to the other;
- co_event and shared_purpose (nonusers cannot declare interests): both attend an event;
- segments come back through purchases (heavy: many and large, medium: some, light: one
  small, lapsed: only more than a year ago); objections and declared contact styles are
  stored on the stakeholder rows.

Each tie's interactions get the age that reproduces its synthetic decayed weight.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import click
import numpy as np
from sqlalchemy import func, insert, select, text, update

from devtools.demo import DEMO_PASSWORD
from community.models import Membership, Mention, Post, Reaction, Space, SpaceRole, Thread, Visibility
from core.accounts import Account, AccountStatus, GlobalRole, hash_password
from core.extensions import db, utcnow
from graph.synthetic import HALF_LIFE_DAYS, generate_community, space_names
from purpose.models import (Brand, BrandStaff, ContactPreference, LegalBasis, Purpose, PurposeKind, Stakeholder,
                            StaffRole, StakeholderKind, Touchpoint, TouchpointKind)

#: From this many members ``flask seed-demo`` writes a synthetic community; below, the hand-written demo.
SYNTHETIC_FROM = 1000
CHUNK = 10_000
EMOJIS = ("👍", "❤️", "🎉", "🌊", "🏃", "🌱", "👏", "🙌")
CAUSES = (("ocean", "plastic-free", "beach"), ("gardening", "local-food", "compost"), ("repair", "reuse", "tools"),
          ("running", "fitness", "trails"), ("cooking", "zero-waste", "recipes"), ("cycling", "commute", "clean-air"),
          ("solar", "energy", "climate"), ("reading", "books", "learning"))
NONUSER_KINDS = (StakeholderKind.customer, StakeholderKind.prospect, StakeholderKind.event_attendee,
                 StakeholderKind.invited, StakeholderKind.local_community)
_MEMBER_KINDS = {"reply", "mention", "reaction", "co_thread"}
#: Purchases per segment: (min count, max count, mean amount, oldest age in days, newest age in days).
PURCHASES = {"heavy": (8, 16, 150.0, 300, 1), "medium": (3, 7, 60.0, 300, 5), "light": (1, 2, 15.0, 300, 10),
             "lapsed": (1, 4, 40.0, 900, 400), "nonuser": (1, 3, 20.0, 400, 60)}
#: The synthetic CLV of a typical person of each segment (graph.synthetic): spend scales with clv / CLV_BASE.
CLV_BASE = {"heavy": 400.0, "medium": 150.0, "light": 40.0, "lapsed": 10.0, "nonuser": 60.0}
# Parents before children, so foreign keys hold whenever a chunk is written.
_ORDER = (Brand, Purpose, Space, Account, Membership, Stakeholder, Thread, Post, Mention, Reaction, Touchpoint)


class BrandExists(click.ClickException):
    pass


class _Writer:
    """Buffered Core inserts with ids handed out here; a full buffer flushes every table in order."""

    def __init__(self):
        self.rows = {model: [] for model in _ORDER}
        self.next_id = {m: (db.session.scalar(select(func.max(m.id))) or 0) + 1 for m in _ORDER}
        self.counts = dict.fromkeys((m.__tablename__ for m in _ORDER), 0)

    def ids(self, model, n: int) -> int:
        first = self.next_id[model]
        self.next_id[model] += n
        return first

    def add(self, model, row: dict) -> int:
        if "id" not in row:
            row["id"] = self.ids(model, 1)
        self.rows[model].append(row)
        if len(self.rows[model]) >= CHUNK:
            self.flush()
        return row["id"]

    def flush(self) -> None:
        for model in _ORDER:
            if self.rows[model]:
                db.session.execute(insert(model), self.rows[model])
                self.counts[model.__tablename__] += len(self.rows[model])
                self.rows[model] = []

    def finish(self) -> None:
        self.flush()
        if db.session.get_bind().dialect.name == "postgresql":  # explicit ids: move the sequences past them
            for model in _ORDER:
                table = model.__tablename__
                db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                        f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))


@dataclass
class SeedResult:
    brand_id: int
    node_of: dict  # synthetic node key -> database node key ("a:<account id>" / "s:<stakeholder id>")
    truth: dict  # graph.synthetic's ground truth, keyed by synthetic node keys
    rows: dict = field(default_factory=dict)
    seconds: float = 0.0

    def planted(self, name: str) -> set:
        """A ground-truth set of ``truth`` translated to database node keys."""
        return {self.node_of[v] for v in self.truth[name]}


@dataclass
class _Plan:
    """Ids and lookups shared by the steps of one seeding."""

    w: _Writer
    rng: np.random.Generator
    as_of: datetime
    brand_id: int
    account: dict  # synthetic member index -> account id
    stakeholder: dict  # synthetic node key -> stakeholder id
    space_id: dict  # space name -> id
    purpose_of: dict  # space name -> purpose index
    purpose_id: list  # purpose index -> id
    tags: list
    seq: dict = field(default_factory=dict)  # space id -> last post number

    def ago(self, days: float) -> datetime:
        return self.as_of - timedelta(days=float(days))


def _brand_purposes_spaces(w: _Writer, name: str, n_spaces: int, as_of: datetime):
    brand_id = w.add(Brand, {"name": name, "description": "A synthetic community (devtools.seed).", "created_at": as_of})
    n_purposes = min(len(CAUSES), max(2, n_spaces // 5))
    purpose_ids = [w.add(Purpose, {"brand_id": brand_id, "kind": PurposeKind.societal if k % 2 else PurposeKind.life,
                                   "title": f"{CAUSES[k][0].title()} together", "statement": "", "tags": list(CAUSES[k]),
                                   "created_at": as_of}) for k in range(n_purposes)]
    names = space_names(n_spaces)
    space_id, purpose_of = {}, {}
    for i, space in enumerate(names):
        purpose_of[space] = i % n_purposes
        space_id[space] = w.add(Space, {"purpose_id": purpose_ids[i % n_purposes], "name": space, "slug": f"syn-{brand_id}-{i}",
                                        "description": "", "created_at": as_of, "last_seq": 0, "slow_mode_seconds": 0,
                                        "new_member_limits": False,
                                        "visibility": Visibility.private if i % 7 == 6 else Visibility.public})
    return brand_id, space_id, purpose_of, purpose_ids, [list(CAUSES[k]) for k in range(n_purposes)]


def _people(p: _Plan, G, members: list, nonusers: list, password_hash: str) -> None:
    """Accounts, memberships and stakeholder rows (members first, then nonusers)."""
    tenure = p.rng.uniform(30, 900, size=len(members) + len(nonusers))
    for i, key in enumerate(members):
        a = G.nodes[key]
        home = a["spaces"][0]
        aligned = a["purpose_alignment"] >= 0.75 or p.rng.random() < a["purpose_alignment"] ** 2
        declared = list(p.tags[p.purpose_of[home]]) if aligned else []
        account_id = p.account[i]
        p.w.add(Account, {"id": account_id, "email": f"syn{p.brand_id}-{i}@synthetic.example", "handle": f"syn{p.brand_id}_{i}",
                          "display_name": a["label"], "password_hash": password_hash, "role": GlobalRole.member,
                          "status": AccountStatus.active, "interests": declared, "created_at": p.ago(tenure[i])})
        for space in a["spaces"]:
            p.w.add(Membership, {"space_id": p.space_id[space], "account_id": account_id, "role": SpaceRole.member,
                                 "joined_at": p.ago(tenure[i] * p.rng.uniform(0.5, 1.0))})
        converted = a["segment"] == "light" and p.rng.random() < 0.1
        _stakeholder(p, key, a, StakeholderKind.member, account_id, tenure[i],
                     {"converted_from": StakeholderKind.prospect, "converted_at": p.ago(p.rng.uniform(1, 60))} if converted else {})
    for j, key in enumerate(nonusers):
        a = G.nodes[key]
        kind = NONUSER_KINDS[int(p.rng.integers(len(NONUSER_KINDS)))]
        home = (a["spaces"] or [s for u in sorted(G[key]) if u[0] == "a" for s in G.nodes[u]["spaces"][:1]] or [None])[0]
        aligned = home is not None and (a["purpose_alignment"] >= 0.75 or p.rng.random() < a["purpose_alignment"] ** 2)
        # What an import carries for a nonuser (purpose/imports.py): a name and the purpose they declared.
        _stakeholder(p, key, a, kind, None, tenure[len(members) + j],
                     {"display_name": f"Stakeholder {key[2:]}",
                      "purpose_ids": [p.purpose_id[p.purpose_of[home]]] if aligned else None})


def _stakeholder(p: _Plan, key, a, kind, account_id, tenure, extra) -> None:
    style = a["style_preference"]
    p.w.add(Stakeholder, {"id": p.stakeholder[key], "brand_id": p.brand_id, "account_id": account_id, "kind": kind,
                          "source": "synthetic", "external_id": key, "email": None, "email_hash": None,
                          "legal_basis": LegalBasis.consent, "contact_preference": ContactPreference(style) if style else None,
                          "objected": bool(a["objected"]), "objected_at": p.as_of if a["objected"] else None,
                          "erased_at": None, "created_at": p.ago(tenure), "converted_at": None, "converted_from": None,
                          "display_name": None, "interests": None, "purpose_ids": None, **extra})


def _purchases(p: _Plan, G, members: list, nonusers: list) -> None:
    """Purchases that give back each person's segment, spend in proportion to their synthetic CLV, and
    none more recent than their last activity; nonusers buy as customers outside the community."""
    for key in members + nonusers:
        a = G.nodes[key]
        low, high, mean, oldest, newest = PURCHASES[a["segment"]]
        count, level = int(p.rng.integers(low, high)), mean * a["clv"] / CLV_BASE[a["segment"]]
        days = a["days_since_activity"]
        if days is not None and a["segment"] != "lapsed":  # the last purchase is no later than the last activity
            newest = min(max(newest, days), oldest - 1)
        for age, amount in zip(p.rng.uniform(newest, oldest, size=count), p.rng.gamma(4.0, level / 4.0, size=count)):
            p.w.add(Touchpoint, {"brand_id": p.brand_id, "stakeholder_id": p.stakeholder[key], "kind": TouchpointKind.purchase,
                                 "occurred_at": p.ago(age), "amount": round(float(amount), 2), "currency": "EUR",
                                 "source": "synthetic", "external_id": None})


def _touchpoint(p: _Plan, stakeholder_id: int, kind, moment: datetime, *, other=None, event_ref=None, purpose_id=None):
    p.w.add(Touchpoint, {"brand_id": p.brand_id, "stakeholder_id": stakeholder_id, "kind": kind, "occurred_at": moment,
                         "amount": None, "currency": None, "source": "synthetic", "external_id": None,
                         "other_stakeholder_id": other, "event_ref": event_ref, "purpose_id": purpose_id})


def _post(p: _Plan, space_id: int, thread_id: int, author: int, moment: datetime, body: str, parent=None) -> int:
    p.seq[space_id] = p.seq.get(space_id, 0) + 1
    return p.w.add(Post, {"space_id": space_id, "thread_id": thread_id, "seq": p.seq[space_id], "author_id": author,
                          "parent_id": parent, "body": body, "created_at": moment, "deleted": False, "hidden": False})


def _conversation(p: _Plan, G, u, v, kinds: dict, moment: datetime) -> None:
    """One thread per pair of members: ``u`` opens it; replies, posts, mentions and reactions follow."""
    shared = [s for s in G.nodes[u]["spaces"] if s in G.nodes[v]["spaces"]] or G.nodes[u]["spaces"]
    space_id = p.space_id[shared[0]]
    a, b = p.account[int(u[2:])], p.account[int(v[2:])]
    threads = []
    for _ in range(max(1, kinds.get("co_thread", 0))):  # each co_thread interaction: a thread both wrote in
        thread_id = p.w.add(Thread, {"space_id": space_id, "title": "What are you up to this week?", "author_id": a,
                                     "created_at": moment, "last_activity_at": moment, "locked": False, "pinned": False})
        threads.append((thread_id, _post(p, space_id, thread_id, a, moment, "What are you up to this week?")))
    thread_id, opening = threads[0]
    for _ in range(kinds.get("reply", 0)):
        _post(p, space_id, thread_id, b, moment, "Count me in!", parent=opening)
    for other, _opening in threads[:kinds.get("co_thread", 0)]:
        _post(p, space_id, other, b, moment, "Same here, see you there.")
    for _ in range(kinds.get("mention", 0)):
        post_id = _post(p, space_id, thread_id, a, moment, f"@syn{p.brand_id}_{v[2:]} what do you think?")
        p.w.add(Mention, {"post_id": post_id, "account_id": b, "created_at": moment})
    for k in range(min(kinds.get("reaction", 0), len(EMOJIS))):
        p.w.add(Reaction, {"post_id": opening, "account_id": b, "emoji": EMOJIS[k], "created_at": moment})


def _loaded_interactions(kinds: dict, *, conversation: bool) -> int:
    """How many interaction rows ``graph.load`` reads back for one synthetic tie, so its age can be set to
    give back the synthetic weight: in a pair's first thread every reply and mention is a row, reactions up
    to ``len(EMOJIS)``; each ``co_thread`` interaction is a thread of its own that both wrote in (one
    ``co_thread`` row each), and replies alone make one; every other kind is one row (or one shared event) each."""
    others = sum(n for k, n in kinds.items() if k not in _MEMBER_KINDS)
    if not conversation:
        return max(1, others + sum(kinds.get(k, 0) for k in _MEMBER_KINDS))
    thread = kinds.get("reply", 0) + kinds.get("mention", 0) + min(kinds.get("reaction", 0), len(EMOJIS))
    thread += max(kinds.get("co_thread", 0), 1 if kinds.get("reply", 0) else 0)
    return max(1, thread + others)


def _ties(p: _Plan, G) -> None:
    """Every synthetic edge as rows; each interaction dated so the decayed weight matches."""
    for index, (u, v, d) in enumerate(G.edges(data=True)):
        kinds = d["kinds"]
        if u[0] == "s" and v[0] == "a":
            u, v = v, u
        count = _loaded_interactions(kinds, conversation=v[0] == "a")
        age = max(0.0, -HALF_LIFE_DAYS * math.log2(min(1.0, d["weight"] / count)))
        moment = p.ago(age)
        if v[0] == "a" and _MEMBER_KINDS & set(kinds):
            _conversation(p, G, u, v, kinds, moment)
        home = G.nodes[u]["spaces"][:1]
        purpose = p.purpose_id[p.purpose_of[home[0]]] if home else None
        for kind in ("referral", "invitation"):
            for _ in range(kinds.get(kind, 0)):
                _touchpoint(p, p.stakeholder[u], TouchpointKind(kind), moment, other=p.stakeholder[v], purpose_id=purpose)
        together = kinds.get("co_event", 0) + kinds.get("shared_purpose", 0)
        if v[0] == "s":
            together += sum(kinds.get(k, 0) for k in _MEMBER_KINDS)
        for k in range(together):
            for person in (u, v):
                _touchpoint(p, p.stakeholder[person], TouchpointKind.event, moment, event_ref=f"syn{p.brand_id}-{index}-{k}",
                            purpose_id=purpose)


def brand_exists(name: str) -> bool:
    return db.session.scalar(select(func.count()).select_from(Brand).where(Brand.name == name)) > 0


def synthetic_brand_name(n_members: int, seed: int) -> str:
    return f"Synthetic community ({n_members:,} members, seed {seed})"


def seed_synthetic(n_members: int, *, seed: int = 1, name: str | None = None, interactions_per_member: float = 5.0,
                   as_of: datetime | None = None, progress=None) -> SeedResult:
    """Write ``generate_community(n_members, seed=seed)`` into the database as a new brand.

    Raises ``BrandExists`` when a brand of that name is already there (nothing is written).
    """
    name = name or synthetic_brand_name(n_members, seed)
    if brand_exists(name):
        raise BrandExists(f"A brand named {name!r} already exists; nothing seeded (pick another --seed or name).")
    started, report = time.perf_counter(), progress or (lambda step: None)
    n_spaces = max(2, n_members // 250)
    G, truth = generate_community(n_members, n_spaces=n_spaces, seed=seed, interactions_per_member=interactions_per_member)
    report("generated")
    members = [v for v in G if v[0] == "a"]
    nonusers = [v for v in G if v[0] == "s"]
    w, as_of = _Writer(), as_of or utcnow()
    brand_id, space_id, purpose_of, purpose_ids, tags = _brand_purposes_spaces(w, name, n_spaces, as_of)
    first_account, first_stakeholder = w.ids(Account, len(members)), w.ids(Stakeholder, len(G))
    stakeholder = {key: first_stakeholder + i for i, key in enumerate(members + nonusers)}
    plan = _Plan(w, np.random.default_rng(seed), as_of, brand_id, {i: first_account + i for i in range(len(members))},
                 stakeholder, space_id, purpose_of, purpose_ids, tags)
    _people(plan, G, members, nonusers, hash_password(DEMO_PASSWORD))
    _purchases(plan, G, members, nonusers)
    report("people")
    _ties(plan, G)
    w.finish()
    for sid, last in plan.seq.items():
        db.session.execute(update(Space).where(Space.id == sid).values(last_seq=last))
    _demo_accounts(brand_id, as_of)
    db.session.commit()
    report("stored")
    node_of = {key: f"a:{plan.account[int(key[2:])]}" for key in members}
    node_of.update({key: f"s:{stakeholder[key]}" for key in nonusers})
    return SeedResult(brand_id, node_of, truth, w.counts, time.perf_counter() - started)


def _demo_accounts(brand_id: int, as_of: datetime) -> None:
    """The demo admin and analyst (created when missing); the analyst may read the new brand."""
    ids = dict(db.session.execute(select(Account.email, Account.id).where(
        Account.email.in_(["admin@demo.example", "analyst@demo.example"]))).all())
    password_hash = None
    for email, handle, display, role in (("admin@demo.example", "demo_admin", "Demo Admin", GlobalRole.admin),
                                         ("analyst@demo.example", "demo_analyst", "Ada Analyst", GlobalRole.analyst)):
        if email not in ids:
            password_hash = password_hash or hash_password(DEMO_PASSWORD)
            account = Account(email=email, handle=handle, display_name=display, password_hash=password_hash, role=role,
                              created_at=as_of)
            db.session.add(account)
            db.session.flush()
            ids[email] = account.id
    db.session.add(BrandStaff(brand_id=brand_id, account_id=ids["analyst@demo.example"], role=StaffRole.analyst))
