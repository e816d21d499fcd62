"""Effects after commit, by mechanism: queued during the transaction, run after it commits, dropped on rollback.

In the spirit of Zulip's ``send_event_on_commit`` (and Django's ``on_commit``): code that
changes something calls :func:`on_commit` with what should follow (a broadcast, a signal
to other layers, a task to enqueue) wherever it is, and the effect happens only once the
change is durable. Actions therefore never commit to be able to notify: the boundary (one
HTTP request, one Socket.IO event, one CLI command or task) commits once, and everything
its actions queued follows, in the order queued. A rollback (an error anywhere in the
request) drops them, so nobody is told of a change that did not happen.

Effects run after ``Session.commit()`` has returned, on the same session, so an effect may
read the database (a fresh transaction begins). They are *live* notices: one that fails
(Redis unreachable, say) is logged and the others still run, because the change they
announce is already committed; clients recover what they missed by ``resume``. An effect
that must survive a crash is not an effect but a row: write it in the same transaction
(a notification, a webhook delivery, an e-mail to send) and let a worker deliver it at
least once, with an ``on_commit`` nudge to start at once rather than at the next poll.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from flask import Flask
from flask_sqlalchemy.session import Session

log = logging.getLogger(__name__)
_PENDING = "outbox.pending"


class OutboxSession(Session):
    """Flask-SQLAlchemy's session, with :func:`on_commit`'s queue (``core.extensions.db`` uses it)."""

    def commit(self) -> None:
        super().commit()
        self.run_effects()

    def rollback(self) -> None:
        self.info.pop(_PENDING, None)
        super().rollback()

    def close(self) -> None:
        self.info.pop(_PENDING, None)
        super().close()

    def queue_effect(self, effect: Callable[..., Any], args: tuple, kwargs: dict) -> None:
        self.info.setdefault(_PENDING, []).append((effect, args, kwargs))

    def run_effects(self) -> None:
        """Run what the committed transaction queued (and what those effects queue and commit in turn)."""
        while pending := self.info.pop(_PENDING, None):
            for effect, args, kwargs in pending:
                try:
                    effect(*args, **kwargs)
                except Exception:
                    log.exception("After-commit effect %s failed; the change itself is committed",
                                  getattr(effect, "__qualname__", effect))


def on_commit(effect: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Call ``effect(*args, **kwargs)`` after the current transaction of ``db.session`` commits; never if it rolls back."""
    from core.extensions import db  # local: core.extensions builds its session from this module's class

    db.session().queue_effect(effect, args, kwargs)


def pending_effects() -> int:
    """How many effects the current transaction has queued (for tests and assertions)."""
    from core.extensions import db

    return len(db.session().info.get(_PENDING, ()))


class CommitPerRequest(Flask):
    """One commit per HTTP request: after the view returned, before the response leaves.

    Actions only flush; this is the request's boundary. A view that raised committed
    nothing (the teardown rolls back, dropping the queued effects); a commit the database
    refuses reaches the app's error handlers (409 for a conflicting write, 503 when busy).
    """

    def dispatch_request(self):
        from core.extensions import db

        response = super().dispatch_request()
        db.session.commit()
        return response
