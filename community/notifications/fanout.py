"""A post's fan-out to the watchers of its space or thread: in the post's transaction when few
watch, owed as a row and written by a worker when many do, so the poster's ack never waits for it.

The fan-out is one set-based ``INSERT ... SELECT`` from the level tables (the rules of
docs/notifications.md as ``NOT EXISTS`` conditions). The post's transaction first counts the
candidates up to ``NOTIFICATION_FANOUT_INLINE_MAX`` + 1 (an index range, about 0.1 ms):

- up to that many, it runs the statement itself: watchers are told exactly when the post exists;
- beyond, it writes one ``notification_fanouts`` row, the fan-out owed, as durable as the post.
  After the commit a worker (the Celery task ``notifications.fan_out`` with ``REDIS_URL``, a
  background task in embedded mode) runs :func:`run`: it deletes the row, runs the statement
  and commits, one transaction. The DELETE comes first and takes the row, so two runs of one
  job (a redelivered task, the sweep) write it once; a run killed midway rolls back and leaves
  the row. :func:`sweep` takes rows older than ``NOTIFICATION_FANOUT_RETRY_SECONDS`` whose run
  was lost (Redis down at the commit, a dead process): Celery beat with ``REDIS_URL``; a timer
  in embedded mode, which also sweeps at start-up; ``flask run-fanouts`` by hand.

A deferred fan-out reads the space, its visibility and the levels when it runs: someone who lost
access to the space meanwhile is not told; a post hidden or deleted before it runs is not
announced (``service.forget_post`` drops the row). Messages in direct conversations are always
written in the post's transaction: a conversation has a bounded number of participants.
"""

from __future__ import annotations

import functools
import logging
from datetime import timedelta

import click
from blinker import Namespace
from celery import shared_task
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import Integer, bindparam, delete, exists, func, insert, literal, select, union_all

from community.models import (
    Membership, Notification, NotificationFanout, NotificationLevel, Post, Space, SpaceNotificationLevel, Thread,
    ThreadNotificationLevel, Visibility,
)
from community.notifications import kinds
from community.notifications.service import (
    _deliver_post_later, _filters_actor, _nudge_mail, _push_after_commit, _space_muted, visible_clause,
)
from core.accounts import Account
from core.extensions import db, socketio, utcnow
from core.outbox import on_commit
from core.schedule import every

log = logging.getLogger(__name__)

N = Notification.__table__
J = NotificationFanout.__table__
SL = SpaceNotificationLevel.__table__
TL = ThreadNotificationLevel.__table__
_COLUMNS = ["recipient_id", "kind", "actor_id", "space_id", "thread_id", "post_id", "count", "created_at"]

#: Sent after a deferred fan-out's transaction ended (written, or found done already): ``sender`` is the job id.
fanout_done = Namespace().signal("fanout-done")


def _ids(*names: str):
    return (bindparam(name, type_=Integer()) for name in names)


def _candidates(new_thread: bool):
    """Who may be told of a new thread (watching or tracking the space) or post (watching the thread,
    or watching the space without a level of their own for the thread), before the rules."""
    space_id, thread_id = _ids("space_id", "thread_id")
    watching = NotificationLevel.watching.value
    if new_thread:
        return select(SL.c.account_id.label("account_id")).where(
            SL.c.space_id == space_id, SL.c.level.in_([watching, NotificationLevel.tracking.value]))
    in_thread = select(TL.c.account_id.label("account_id")).where(TL.c.thread_id == thread_id, TL.c.level == watching)
    from_space = select(SL.c.account_id.label("account_id")).where(
        SL.c.space_id == space_id, SL.c.level == watching,
        ~exists().where(TL.c.thread_id == thread_id, TL.c.account_id == SL.c.account_id))
    return union_all(in_thread, from_space)


@functools.cache
def _count_statement(new_thread: bool):
    """How many candidates, counted up to ``limit`` (parameters ``space_id``, ``thread_id``, ``limit``)."""
    return select(func.count()).select_from(_candidates(new_thread).limit(bindparam("limit", type_=Integer())).subquery())


@functools.cache
def _fan_out_statement(new_thread: bool, private: bool):
    """The fan-out ``INSERT ... SELECT``, built once per shape (as the post path's statements:
    core/sql.py); parameters ``space_id``, ``thread_id``, ``author_id``, ``post_id``, ``now``, ``exclude``."""
    space_id, thread_id, author_id = _ids("space_id", "thread_id", "author_id")
    c = _candidates(new_thread).subquery("candidates")
    conditions = [c.c.account_id != author_id, ~_filters_actor(c.c.account_id, author_id),
                  c.c.account_id.not_in(bindparam("exclude", expanding=True))]
    if not new_thread:
        conditions.append(~_space_muted(c.c.account_id, space_id))
    if private:
        conditions.append(visible_clause(c.c.account_id, space_id))
    kind = kinds.NEW_THREAD if new_thread else kinds.WATCHED_POST
    rows = select(c.c.account_id, literal(kind.name), author_id, space_id, thread_id, bindparam("post_id", type_=Integer()),
                  literal(1), bindparam("now", type_=N.c.created_at.type)).where(*conditions)
    return kind, _counted(insert(N).from_select(_COLUMNS, rows))


def _counted(statement):
    """SQLAlchemy keeps an INSERT's row count only when asked (psycopg's would read -1)."""
    return statement.execution_options(preserve_rowcount=True)


@functools.cache
def _direct_statement():
    """The fan-out of a message in a direct conversation: every other participant (its memberships)
    who has not muted it nor blocked or muted the author; parameters as ``_fan_out_statement``'s."""
    space_id, thread_id, author_id = _ids("space_id", "thread_id", "author_id")
    MS = Membership.__table__
    rows = select(MS.c.account_id, literal(kinds.DIRECT_MESSAGE.name), author_id, space_id, thread_id,
                  bindparam("post_id", type_=Integer()), literal(1), bindparam("now", type_=N.c.created_at.type)).where(
        MS.c.space_id == space_id, MS.c.account_id != author_id, ~_filters_actor(MS.c.account_id, author_id),
        ~_space_muted(MS.c.account_id, space_id), MS.c.account_id.not_in(bindparam("exclude", expanding=True)))
    return kinds.DIRECT_MESSAGE, _counted(insert(N).from_select(_COLUMNS, rows))


def _write(post_id: int, thread_id: int, space_id: int, visibility: Visibility, author_id: int, *, new_thread: bool,
           exclude: list[int], now) -> int:
    """Run the fan-out statement in the current transaction; after its commit, the live events,
    e-mail nudge and pushes follow. Returns how many were told."""
    if visibility is Visibility.direct:
        kind, statement = _direct_statement()
    else:
        kind, statement = _fan_out_statement(new_thread, visibility is not Visibility.public)
    result = db.session.execute(statement, {"space_id": space_id, "thread_id": thread_id, "author_id": author_id,
                                            "post_id": post_id, "now": now, "exclude": sorted(exclude) or [0]})
    if result.rowcount:
        on_commit(_deliver_post_later, current_app._get_current_object(), post_id, kind.name)
        _nudge_mail(kind)
        _push_after_commit(kind, post_id=post_id)
    return result.rowcount


def fan_out(post: Post, thread: Thread, space: Space, author: Account, *, new_thread: bool, exclude: set[int]) -> None:
    """Tell those following the space or thread of a new thread or post (in a direct conversation:
    every other participant), in the post's transaction or, past ``NOTIFICATION_FANOUT_INLINE_MAX``
    candidates, by a worker after the commit (``exclude``: already told by a mention or reply)."""
    if space.visibility is not Visibility.direct:
        limit = current_app.config["NOTIFICATION_FANOUT_INLINE_MAX"]
        many = db.session.scalar(_count_statement(new_thread),
                                 {"space_id": space.id, "thread_id": thread.id, "limit": limit + 1})
        if many == 0:
            return
        if many > limit:
            job = db.session.execute(insert(J).values(post_id=post.id, new_thread=new_thread,
                                                      exclude=sorted(exclude), created_at=utcnow())
                                     .returning(J.c.id)).scalar_one()
            on_commit(dispatch, current_app._get_current_object(), job)
            return
    _write(post.id, thread.id, space.id, space.visibility, author.id, new_thread=new_thread, exclude=sorted(exclude),
           now=utcnow())


def dispatch(app, job_id: int) -> None:
    """After the post's commit: the Celery task with ``REDIS_URL``, else a background task here.
    Should this fail (Redis down), the row stays for :func:`sweep`."""
    if app.config.get("REDIS_URL"):
        fan_out_task.apply_async((job_id,))
    else:
        socketio.start_background_task(_run_in, app, job_id)


def run(job_id: int) -> int:
    """Do one owed fan-out in one transaction: take (delete) its row, write the notifications,
    commit. Returns how many were told; 0 when another run had done it."""
    try:
        job = db.session.execute(delete(J).where(J.c.id == job_id).returning(
            J.c.post_id, J.c.new_thread, J.c.exclude, J.c.created_at)).first()
        if job is None:
            db.session.rollback()
            return 0
        post = db.session.execute(
            select(Post.author_id, Post.thread_id, Thread.space_id, Space.visibility)
            .join(Thread, Thread.id == Post.thread_id).join(Space, Space.id == Thread.space_id)
            .where(Post.id == job.post_id, Post.deleted.is_(False), Post.hidden.is_(False))).first()
        told = 0 if post is None else _write(job.post_id, post.thread_id, post.space_id, post.visibility,
                                             post.author_id, new_thread=job.new_thread, exclude=job.exclude or [],
                                             now=utcnow())
        db.session.commit()
        return told
    finally:
        fanout_done.send(job_id)


@shared_task(name="notifications.fan_out", acks_late=True, reject_on_worker_lost=True)
def fan_out_task(job_id: int) -> int:
    return run(job_id)


def sweep(older_than: float | None = None) -> int:
    """Run the owed fan-outs older than ``older_than`` seconds (``NOTIFICATION_FANOUT_RETRY_SECONDS``),
    oldest first; safe beside running workers (a job taken by another is skipped). Returns how many were told."""
    if older_than is None:
        older_than = current_app.config["NOTIFICATION_FANOUT_RETRY_SECONDS"]
    cutoff = utcnow() - timedelta(seconds=older_than)
    ids = list(db.session.scalars(select(J.c.id).where(J.c.created_at <= cutoff).order_by(J.c.id)))
    db.session.rollback()
    told = 0
    for job_id in ids:
        try:
            told += run(job_id)
        except Exception:
            db.session.rollback()
            log.exception("The fan-out %s failed; the next sweep retries it", job_id)
    return told


@shared_task(name="notifications.sweep_fanouts", acks_late=True)
def sweep_task() -> int:
    return sweep()


def _run_in(app, job_id: int) -> None:
    with app.app_context():
        try:
            run(job_id)
        except Exception:
            log.exception("A fan-out failed; the sweep retries it")
        finally:
            db.session.remove()


def run_embedded(app) -> None:
    """Embedded mode (no worker, no beat): sweep now (what a stopped process left, once old enough)
    and then every ``NOTIFICATION_FANOUT_RETRY_SECONDS``."""
    every(app, "NOTIFICATION_FANOUT_RETRY_SECONDS", sweep, "The fan-out sweep")


@click.command("run-fanouts")
@with_appcontext
def run_fanouts_command() -> None:
    """Write the notifications of every owed fan-out now (safe beside running workers)."""
    click.echo(f"told {sweep(0)} watcher(s)")
