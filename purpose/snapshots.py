"""People snapshots: every person's relationship profile of a brand (or of one purpose), computed
once off the request and stored as plain rows that listings filter, sort and page by SQL.

Building a brand's profiles takes seconds (``purpose/profiles.py``: RFM quintiles and the CLV fits
are relative to the whole population), so the people listing reads the last *ready* snapshot and
says how old it is. Every change to the brand's people bumps ``brands.people_version`` in the
change's own transaction (:func:`people_changed`): imports (each batch), stakeholders added,
erased or objecting, registrations linked, members and guests first recorded by events or ideas. A snapshot built from an older version, or older than
``PEOPLE_SNAPSHOT_MAX_AGE_SECONDS``, is *stale*: the listing keeps serving it (with ``stale``
and its age) and schedules one background build per brand (:func:`schedule`): a Celery task with
``REDIS_URL``; otherwise a background task of the web process, as graph reports run, which for a
brand of ``PEOPLE_SNAPSHOT_PROCESS_FROM`` people or more runs the build in a process of its own
(core/offload.py) so that the web process's sockets keep their pace.

Erasure and objection never wait for a rebuild: their transaction deletes the person's rows
from every snapshot (:func:`forget_person`), so from the moment they commit no process serves
them. A build that loaded the person before that stores under the brand row's lock and deletes
the rows of people erased or objecting by then in its own transaction (:func:`_store`); the
erasure's version bump takes the same lock first, so one of the two always sees the other.

A listing's cursor names the snapshot its first page read, so every page of it shows the same
``as_of``; the last ``PEOPLE_SNAPSHOT_KEEP`` ready snapshots are kept for that.
"""

from __future__ import annotations

import json
import logging
import math
import uuid
from datetime import datetime, timedelta, timezone
from typing import Callable

from blinker import Namespace
from celery import shared_task
from flask import current_app
from sqlalchemy import Integer, bindparam, delete, func, or_, select, update

from core import offload, sql
from core.cooperative import collections_deferred, paced
from core.extensions import db, socketio, utcnow
from core.rows import insert_plain, refresh_statistics
from purpose.models import Brand, PeopleSnapshot, SnapshotPerson, SnapshotStatus, Stakeholder, StakeholderKind
from purpose.profiles import Scope, build_people_profiles

log = logging.getLogger(__name__)

#: Sent (sender: the snapshot id) when a build ends, whatever the outcome; tests wait on it.
snapshot_finished = Namespace().signal("snapshot-finished")

#: ``source(brand_id, purpose_id) -> (report id or None, {stakeholder_id: (community, pagerank, opportunity_rank)})``:
#: the latest done graph report's measures, registered by the graph layer (which this one may not import).
SnapshotSource = Callable[[int, "int | None"], tuple["int | None", dict[int, tuple]]]
_snapshot_sources: list[SnapshotSource] = []


def register_snapshot_source(source: SnapshotSource) -> None:
    if source not in _snapshot_sources:
        _snapshot_sources.append(source)


# -- versions and erasure, in the caller's transaction ---------------------------------------------------------------

def people_changed(brand_id: int) -> None:
    """Bump the brand's people version in the session's transaction. It takes the brand row's
    lock, which a snapshot's store takes too (see the module docstring)."""
    db.session.execute(people_changed_statement(brand_id).execution_options(synchronize_session=False))


def people_changed_statement(brand_id: int):
    """The statement :func:`people_changed` runs, for a transaction of another connection (an import's batches)."""
    return update(Brand).where(Brand.id == brand_id).values(people_version=Brand.people_version + 1)


def forget_person(brand_id: int, stakeholder_id: int) -> None:
    """In the erasure's (objection's) transaction: the person leaves every snapshot of the brand."""
    people_changed(brand_id)
    db.session.execute(delete(SnapshotPerson).where(SnapshotPerson.stakeholder_id == stakeholder_id)
                       .execution_options(synchronize_session=False))


def _lock_brand(brand_id: int) -> None:
    """The brand row's lock for the rest of the transaction (a write on SQLite: the database's)."""
    db.session.execute(update(Brand).where(Brand.id == brand_id).values(people_version=Brand.people_version)
                       .execution_options(synchronize_session=False))


# -- which snapshot to read ------------------------------------------------------------------------------------------

def _of_scope(brand_id: int, purpose_id: int | None):
    return (PeopleSnapshot.brand_id == brand_id,
            PeopleSnapshot.purpose_id.is_(None) if purpose_id is None else PeopleSnapshot.purpose_id == purpose_id)


# Every people listing asks these; prebuilt (core/sql.py) they cost a round trip, not the ORM's query building.
def _latest_ready(purpose: bool):
    return (select(*sql.columns(PeopleSnapshot))
            .where(PeopleSnapshot.brand_id == bindparam("brand_id", type_=Integer()),
                   PeopleSnapshot.purpose_id == bindparam("purpose_id", type_=Integer()) if purpose
                   else PeopleSnapshot.purpose_id.is_(None),
                   PeopleSnapshot.status == SnapshotStatus.ready)
            .order_by(PeopleSnapshot.id.desc()).limit(1))


_LATEST_READY = {True: _latest_ready(True), False: _latest_ready(False)}


def latest_ready(brand_id: int, purpose_id: int | None) -> PeopleSnapshot | None:
    """The brand's (purpose's) newest ready snapshot, if any (as ``Session.get`` would give it)."""
    row = sql.run(_LATEST_READY[purpose_id is not None], {"brand_id": brand_id, "purpose_id": purpose_id}).first()
    return None if row is None else sql.loaded(row, PeopleSnapshot)[0]


_BUILDING = select(PeopleSnapshot.id).where(
    PeopleSnapshot.brand_id == bindparam("brand_id", type_=Integer()), PeopleSnapshot.status == SnapshotStatus.building,
    PeopleSnapshot.lease_until > bindparam("now", type_=PeopleSnapshot.lease_until.type)).limit(1)
_BY_ID = select(*sql.columns(PeopleSnapshot)).where(PeopleSnapshot.id == bindparam("id", type_=Integer()))


def building(brand_id: int) -> bool:
    """Whether a build of the brand runs under a live lease (one per brand at a time)."""
    return sql.run(_BUILDING, {"brand_id": brand_id, "now": utcnow()}).first() is not None


def by_id(snapshot_id: int) -> PeopleSnapshot | None:
    """The snapshot (as ``Session.get`` gives it: the session's object when it holds one)."""
    row = sql.run(_BY_ID, {"id": snapshot_id}).first()
    return None if row is None else sql.loaded(row, PeopleSnapshot)[0]


def is_stale(snapshot: PeopleSnapshot, version: int, now: datetime | None = None) -> bool:
    age = ((now or utcnow()) - snapshot.as_of).total_seconds()
    return (snapshot.people_version or 0) < version or age > current_app.config["PEOPLE_SNAPSHOT_MAX_AGE_SECONDS"]


def describe(snapshot: PeopleSnapshot, version: int) -> dict:
    """The ``snapshot`` object of a response: which snapshot, as of when, how old, and whether stale."""
    now = utcnow()
    return {"id": snapshot.id, "purpose_id": snapshot.purpose_id, "as_of": snapshot.as_of, "built_at": snapshot.built_at,
            "age_seconds": round((now - snapshot.as_of).total_seconds(), 3), "stale": is_stale(snapshot, version, now),
            "people": snapshot.people, "report_id": snapshot.report_id, "clv_model": snapshot.clv_model}


# -- building --------------------------------------------------------------------------------------------------------

def schedule(brand_id: int, purpose_id: int | None) -> int | None:
    """Start a build of the brand's (purpose's) snapshot unless one of the brand runs; returns its id.

    Ends the caller's transaction (like ``graph.api.new_report``: the build reads the row on its own
    connection). Schedulers take the brand row's lock, so two requests never both start one."""
    if building(brand_id):
        return None
    db.session.commit()
    _lock_brand(brand_id)
    if building(brand_id):
        db.session.rollback()
        return None
    owner = uuid.uuid4().hex
    lease = utcnow() + timedelta(seconds=current_app.config["PEOPLE_SNAPSHOT_LEASE_SECONDS"])
    snapshot = PeopleSnapshot(brand_id=brand_id, purpose_id=purpose_id, status=SnapshotStatus.building,
                              lease_owner=owner, lease_until=lease)
    db.session.add(snapshot)
    db.session.commit()
    dispatch(snapshot.id, owner, brand_id)
    return snapshot.id


def dispatch(snapshot_id: int, owner: str, brand_id: int) -> None:
    """Run the build: a Celery task with Redis; in embedded mode a background task (greenlet or
    thread), which hands the build of a brand of ``PEOPLE_SNAPSHOT_PROCESS_FROM`` people to a process of its own."""
    config, app = current_app.config, current_app._get_current_object()
    if config.get("REDIS_URL"):
        app.extensions["celery"].send_task(build_people_snapshot.name, (snapshot_id, owner),
                                           task_id=f"people-snapshot-{snapshot_id}")
    elif offload.shareable(config) and _people(brand_id) >= config["PEOPLE_SNAPSHOT_PROCESS_FROM"]:
        socketio.start_background_task(_build_in_process, app, snapshot_id, owner)
    else:
        socketio.start_background_task(_build_embedded, app, snapshot_id, owner)


def _people(brand_id: int) -> int:
    """How many people the brand knows (its stakeholders), in a transaction of its own."""
    count = db.session.scalar(select(func.count()).select_from(Stakeholder).where(Stakeholder.brand_id == brand_id))
    db.session.commit()
    return count


def _build_embedded(app, snapshot_id: int, owner: str) -> None:
    offload.in_app(app, execute_build, snapshot_id, owner)


def _build_in_process(app, snapshot_id: int, owner: str) -> None:
    """Wait for the build in a process of its own, renewing its lease meanwhile (a slow process, niced on a
    busy machine, is still alive: no second build starts); a process that could not start, died or ran
    past ``PEOPLE_SNAPSHOT_TIME_LIMIT`` says so on the snapshot at once."""
    config = app.config
    try:
        failure = offload.failure(
            app, f"{__name__}:execute_build", snapshot_id, owner, what="the build",
            timed_out=f"the build ran past PEOPLE_SNAPSHOT_TIME_LIMIT ({config['PEOPLE_SNAPSHOT_TIME_LIMIT']} s) and was stopped",
            beat=lambda: offload.in_app(app, _renew, snapshot_id, owner),
            every=config["PEOPLE_SNAPSHOT_LEASE_SECONDS"] / 3, limit=config["PEOPLE_SNAPSHOT_TIME_LIMIT"])
        if failure is not None:
            offload.in_app(app, _failed, snapshot_id, owner, failure)
    finally:
        snapshot_finished.send(snapshot_id)


def _renew(snapshot_id: int, owner: str) -> None:
    """Extend the lease of a build under way (a failure is logged: the next beat tries again)."""
    try:
        lease = utcnow() + timedelta(seconds=current_app.config["PEOPLE_SNAPSHOT_LEASE_SECONDS"])
        db.session.execute(update(PeopleSnapshot).where(*_held(snapshot_id, owner))
                           .values(lease_until=lease).execution_options(synchronize_session=False))
        db.session.commit()
    except Exception:
        log.exception("people snapshot %s: renewing its lease failed", snapshot_id)
        db.session.rollback()


def _held(snapshot_id: int, owner: str) -> tuple:
    """The snapshot's row while ``owner`` holds its build under way."""
    return (PeopleSnapshot.id == snapshot_id, PeopleSnapshot.lease_owner == owner,
            PeopleSnapshot.status == SnapshotStatus.building)


def _failed(snapshot_id: int, owner: str, error: str) -> None:
    """Mark the build failed with ``error`` unless another owner holds it or it ended already."""
    db.session.execute(update(PeopleSnapshot).where(*_held(snapshot_id, owner))
                       .values(status=SnapshotStatus.failed, error=error, lease_owner=None, lease_until=None)
                       .execution_options(synchronize_session=False))
    db.session.commit()


@shared_task(name="purpose.build_people_snapshot", acks_late=True, reject_on_worker_lost=True)
def build_people_snapshot(snapshot_id: int, owner: str) -> str:
    """Celery entry point (a redelivered task finds its snapshot finished and stops)."""
    return execute_build(snapshot_id, owner)


COLUMNS = ("snapshot_id", "stakeholder_id", "account_id", "kind", "display_name", "external_id", "segment",
           "recency_days", "frequency", "monetary", "pyramid_level", "style", "purpose_alignment", "clv",
           "last_active_at", "community", "pagerank", "opportunity_rank", "rfm_r", "rfm_f", "rfm_m", "style_declared",
           "clv_expected_purchases", "clv_probability_alive", "pyramid_to_next", "alignment")
_MEMBER = StakeholderKind.member.value


def execute_build(snapshot_id: int, owner: str) -> str:
    """Compute every profile of the snapshot's scope and store them; returns what happened. The
    garbage collector waits until the rows are stored (``collections_deferred``, core/cooperative.py)."""
    with collections_deferred():
        return _execute_build(snapshot_id, owner)


def _execute_build(snapshot_id: int, owner: str) -> str:
    snapshot = db.session.get(PeopleSnapshot, snapshot_id)
    if snapshot is None or snapshot.status != SnapshotStatus.building or snapshot.lease_owner != owner:
        db.session.rollback()
        return "stopped"
    try:
        # The version before the people are read: a change committed meanwhile leaves the snapshot stale, never wrong.
        version = db.session.scalar(select(Brand.people_version).where(Brand.id == snapshot.brand_id))
        as_of = utcnow()
        db.session.commit()
        people, profiles, model = build_people_profiles(Scope(snapshot.brand_id, snapshot.purpose_id, as_of))
        report_id, measures = None, {}
        for source in _snapshot_sources:
            report_id, measures = source(snapshot.brand_id, snapshot.purpose_id)
        rows = _rows(snapshot, people, profiles, measures)
        db.session.commit()  # the reads are done; the store is a transaction of its own
        return _store(snapshot, owner, rows, version=version, as_of=as_of, report_id=report_id, clv_model=model.status)
    except Exception as exc:  # a failed build says so; the details go to the log
        log.exception("people snapshot %s failed", snapshot_id)
        db.session.rollback()
        _failed(snapshot_id, owner, f"the build failed ({type(exc).__name__})")
        return "failed"
    finally:
        snapshot_finished.send(snapshot_id)


def _stored_time(value: datetime | None, sqlite: bool):
    """A timestamp as ``insert_plain`` passes it: naive UTC text on SQLite (as ``UTCDateTime`` stores it)."""
    if value is None or not sqlite:
        return value
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def _finite(value: float | None) -> float | None:
    """A CLV value as stored: a fit that could not value someone (NaN) leaves them without one."""
    return value if value is not None and math.isfinite(value) else None


def _rows(snapshot: PeopleSnapshot, people, profiles, measures: dict) -> list[tuple]:
    sqlite = db.engine.dialect.name == "sqlite"
    rows = []
    for sid in paced(sorted(profiles)):
        p, known, person = profiles[sid], people.known[sid], people.persons[sid]
        if snapshot.purpose_id is not None:
            alignment = p.alignment.get(snapshot.purpose_id, 0.0)
        else:
            alignment = max(p.alignment.values(), default=0.0)
        community, pagerank, rank = measures.get(sid, (None, None, None))
        last = person.contacts[-1] if person.contacts else None
        rows.append((snapshot.id, sid, known.account_id, "member" if known.kind == _MEMBER else "nonuser",
                     known.display_name, known.external_id, p.segment, p.rfm["recency_days"], p.rfm["frequency"],
                     p.rfm["monetary"], p.pyramid["level"], p.style, alignment, _finite(p.clv["value"]) if p.clv else None,
                     _stored_time(last, sqlite), community, pagerank, rank, p.rfm["r"], p.rfm["f"], p.rfm["m"],
                     p.style_declared, p.clv["expected_purchases"] if p.clv else None,
                     p.clv["probability_alive"] if p.clv else None, json.dumps(p.pyramid["to_next"]),
                     json.dumps([[pid, score] for pid, score in p.alignment.items()])))
    return rows


def _store(snapshot: PeopleSnapshot, owner: str, rows: list[tuple], *, version: int, as_of: datetime,
           report_id: int | None, clv_model: str) -> str:
    """Store the rows once (only the lease holder can), under the brand row's lock, without the
    people erased or objecting by now, and drop snapshots no cursor needs any more."""
    _lock_brand(snapshot.brand_id)
    stored = db.session.execute(
        update(PeopleSnapshot).where(PeopleSnapshot.id == snapshot.id, PeopleSnapshot.lease_owner == owner,
                                     PeopleSnapshot.status == SnapshotStatus.building)
        .values(status=SnapshotStatus.ready, people_version=version, as_of=as_of, built_at=utcnow(), report_id=report_id,
                clv_model=clv_model, lease_owner=None, lease_until=None).execution_options(synchronize_session=False)).rowcount
    if not stored:
        db.session.rollback()
        return "stopped"
    insert_plain(SnapshotPerson.__tablename__, COLUMNS, rows)
    gone = select(Stakeholder.id).where(Stakeholder.brand_id == snapshot.brand_id,
                                        or_(Stakeholder.objected.is_(True), Stakeholder.erased_at.is_not(None)))
    removed = db.session.execute(delete(SnapshotPerson).where(SnapshotPerson.snapshot_id == snapshot.id,
                                                              SnapshotPerson.stakeholder_id.in_(gone))
                                 .execution_options(synchronize_session=False)).rowcount
    db.session.execute(update(PeopleSnapshot).where(PeopleSnapshot.id == snapshot.id)
                       .values(people=len(rows) - removed).execution_options(synchronize_session=False))
    _prune(snapshot.brand_id, snapshot.purpose_id)
    db.session.commit()
    refresh_statistics(SnapshotPerson.__tablename__)
    return "ready"


def _prune(brand_id: int, purpose_id: int | None) -> None:
    """Keep the newest ``PEOPLE_SNAPSHOT_KEEP`` ready snapshots of the scope (a cursor of the one before
    the newest still pages), and builds still under a live lease; drop the rest with their rows."""
    keep = current_app.config["PEOPLE_SNAPSHOT_KEEP"]
    kept = list(db.session.scalars(select(PeopleSnapshot.id).where(*_of_scope(brand_id, purpose_id),
                                                                   PeopleSnapshot.status == SnapshotStatus.ready)
                                   .order_by(PeopleSnapshot.id.desc()).limit(keep)))
    if len(kept) < keep:
        return
    old = select(PeopleSnapshot.id).where(*_of_scope(brand_id, purpose_id), PeopleSnapshot.id < min(kept),
                                          or_(PeopleSnapshot.status != SnapshotStatus.building,
                                              PeopleSnapshot.lease_until < utcnow()))
    ids = list(db.session.scalars(old))
    if ids:
        db.session.execute(delete(SnapshotPerson).where(SnapshotPerson.snapshot_id.in_(ids))
                           .execution_options(synchronize_session=False))
        db.session.execute(delete(PeopleSnapshot).where(PeopleSnapshot.id.in_(ids)).execution_options(synchronize_session=False))


# -- reading ---------------------------------------------------------------------------------------------------------

def segment_summary(snapshot: PeopleSnapshot) -> dict:
    """Counts per segment (revenue, customer equity), per pyramid level and per kind, by GROUP BY."""
    from purpose.relationship import PYRAMID_LEVELS

    of_it = SnapshotPerson.snapshot_id == snapshot.id
    segments = db.session.execute(
        select(SnapshotPerson.segment, func.count(), func.sum(SnapshotPerson.monetary), func.sum(SnapshotPerson.clv))
        .where(of_it).group_by(SnapshotPerson.segment).order_by(SnapshotPerson.segment)).all()
    levels = dict(db.session.execute(select(SnapshotPerson.pyramid_level, func.count()).where(of_it)
                                     .group_by(SnapshotPerson.pyramid_level)).all())
    kinds = dict(db.session.execute(select(SnapshotPerson.kind, func.count()).where(of_it)
                                    .group_by(SnapshotPerson.kind).order_by(SnapshotPerson.kind)).all())
    fitted = snapshot.clv_model == "fitted"
    equity = {s: round(e or 0.0, 2) for s, _n, _r, e in segments} if fitted else {}
    return {
        "people": sum(n for _s, n, _r, _e in segments),
        "segments": [{"segment": s, "count": n, "revenue": round(r or 0.0, 2), "customer_equity": equity.get(s)}
                     for s, n, r, _e in segments],
        "pyramid": [{"level": i, "name": PYRAMID_LEVELS[i - 1] if i else None, "count": levels.get(i, 0)}
                    for i in range(len(PYRAMID_LEVELS) + 1)],
        "kinds": kinds,
        "customer_equity": round(sum(equity.values()), 2) if fitted else None,
    }


def profile_of(row: SnapshotPerson) -> dict | None:
    """The person's profile as ``purpose.profiles.Profile.as_dict`` gives it, less ``stakeholder`` (the
    caller's, from the live row); None for a row built before snapshots held whole profiles."""
    from purpose.relationship import PYRAMID_LEVELS

    if row.style_declared is None:
        return None
    level = row.pyramid_level
    clv = None
    if row.clv_expected_purchases is not None:
        clv = {"expected_purchases": row.clv_expected_purchases, "probability_alive": row.clv_probability_alive,
               "value": row.clv}
    return {"segment": row.segment,
            "rfm": {"recency_days": row.recency_days, "frequency": row.frequency, "monetary": row.monetary,
                    "r": row.rfm_r, "f": row.rfm_f, "m": row.rfm_m},
            "pyramid": {"level": level, "name": PYRAMID_LEVELS[level - 1] if level else None,
                        "next": PYRAMID_LEVELS[level] if level < len(PYRAMID_LEVELS) else None,
                        "to_next": list(row.pyramid_to_next or [])},
            "style": row.style, "style_declared": row.style_declared,
            "alignment": [{"purpose_id": pid, "score": score} for pid, score in row.alignment or []],
            "clv": clv}
