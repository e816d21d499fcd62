"""The ideas wing's signal, for other wings to connect to from their ``init_*`` (a badges wing, say).

``idea_shipped`` is sent once per idea, after the commit of the status change that first set it to
``shipped`` (``core.outbox.on_commit``): ``sender`` is the brand's id, with keyword arguments
``account_id`` (the idea's author) and ``idea_id``. Not sent for an idea whose author was erased, and not
again when a shipped idea is set to another status and shipped again.
"""

from __future__ import annotations

from blinker import Namespace

idea_shipped = Namespace().signal("idea-shipped")
