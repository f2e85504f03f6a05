"""A real SMTP server for the tests (aiosmtpd on a free port): the app sends its mail there and a test
reads the links from what arrived — the same place a member would read them."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller

LINK = re.compile(r"(https?://[^\s/]+)(/(?:reset|signup/confirm)/[A-Za-z0-9_-]+)")


@dataclass(frozen=True)
class Received:
    to: list[str]
    subject: str
    text: str
    headers: dict[str, str] = field(default_factory=dict)  # every header, by lower-case name

    def link(self) -> str:
        """The path of the one account link in the mail (``/reset/…`` or ``/signup/confirm/…``)."""
        found = LINK.findall(self.text)
        assert len(found) == 1, self.text
        return str(found[0][1])

    def link_base(self) -> str:
        found = LINK.findall(self.text)
        assert len(found) == 1, self.text
        return str(found[0][0])


class MailSink:
    """Collects every mail delivered to it; :meth:`wait_for` waits for mail to one address."""

    def __init__(self) -> None:
        self.messages: list[Received] = []
        self._cond = threading.Condition()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = msg.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        with self._cond:
            headers = {k.lower(): str(v) for k, v in msg.items()}
            self.messages.append(Received(list(envelope.rcpt_tos), str(msg["Subject"]), text, headers))
            self._cond.notify_all()
        return "250 OK"

    def start(self) -> MailSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def to(self, address: str) -> list[Received]:
        with self._cond:
            return [m for m in self.messages if address in m.to]

    def wait_for(self, address: str, count: int = 1, timeout_s: float = 20.0) -> list[Received]:
        """The first ``count`` mails to ``address``, waiting for them to arrive."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while len([m for m in self.messages if address in m.to]) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"no mail to {address} after {timeout_s:.0f} s: {self.messages}"
                self._cond.wait(left)
            return [m for m in self.messages if address in m.to][:count]

    def clear(self) -> None:
        with self._cond:
            self.messages.clear()
