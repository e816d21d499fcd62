"""A real SMTP server (aiosmtpd) in the test process that keeps every message it receives."""

from __future__ import annotations

import asyncio
import email
import email.policy
import queue
import threading
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.live import WAIT, free_port


class _Keep:
    def __init__(self, inbox: queue.Queue):
        self.inbox = inbox
        self.hold_next = False
        self.holding, self.released = threading.Event(), threading.Event()

    async def handle_DATA(self, server, session, envelope):
        if self.hold_next:  # the message arrived, but no answer until the test releases it; then refused
            self.hold_next = False
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.released.wait)
            return "451 Try again later"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.inbox.put((envelope.rcpt_tos, message))
        return "250 Message accepted for delivery"


class MailServer:
    """``with MailServer() as smtp``: ``smtp.url`` for ``SMTP_URL``; ``smtp.next()`` waits for a message."""

    def __init__(self):
        self.inbox: queue.Queue = queue.Queue()
        self.handler = _Keep(self.inbox)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=free_port())

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.controller.port}"

    def __enter__(self) -> "MailServer":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.handler.released.set()
        self.controller.stop()

    def hold_next(self) -> None:
        """The next message is received but not answered until :meth:`release` (then refused, 451):
        a sender killed meanwhile never learns whether it was accepted."""
        self.handler.hold_next = True

    def release(self) -> None:
        self.handler.released.set()

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
