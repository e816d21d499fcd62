"""A real SMTP server (aiosmtpd) in the test process that keeps every message it receives."""

from __future__ import annotations

import email
import email.policy
import queue
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.live import WAIT, free_port


class _Keep:
    def __init__(self, inbox: queue.Queue):
        self.inbox = inbox

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.inbox.put((envelope.rcpt_tos, message))
        return "250 Message accepted for delivery"


class MailServer:
    """``with MailServer() as smtp``: ``smtp.url`` for ``SMTP_URL``; ``smtp.next()`` waits for a message."""

    def __init__(self):
        self.inbox: queue.Queue = queue.Queue()
        self.controller = Controller(_Keep(self.inbox), hostname="127.0.0.1", port=free_port())

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.controller.port}"

    def __enter__(self) -> "MailServer":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    def next(self, timeout: float = WAIT) -> tuple[list[str], EmailMessage]:
        """The next message received: (envelope recipients, parsed message); fails after ``timeout``."""
        return self.inbox.get(timeout=timeout)

    def empty(self) -> bool:
        return self.inbox.empty()

    def drain(self) -> dict[str, EmailMessage]:
        """Every message received so far, by its first envelope recipient."""
        got = {}
        while not self.inbox.empty():
            recipients, message = self.inbox.get_nowait()
            got[recipients[0]] = message
        return got
