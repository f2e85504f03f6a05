"""Outgoing mail: a message, and the two ways it leaves — an SMTP server, or files for a site without one.

Mail that carries a link (password reset, sign-up confirmation) exists only here, on its way out: the
database keeps a record that it was sent (``outbox``) but never the link, so neither the instructor's
admin nor a backup can use it.
"""

from __future__ import annotations

import email.utils
import os
import secrets
import smtplib
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from facecoach.config import SmtpUrl, SmtpUrlError, parse_smtp_url

__all__ = ["Mail", "SmtpUrl", "SmtpUrlError", "parse_smtp_url"]


@dataclass(frozen=True)
class Mail:
    """A plain-text mail; ``headers`` are extra header lines (e.g. List-Unsubscribe), name → value."""

    to: str
    subject: str
    text: str
    headers: tuple[tuple[str, str], ...] = ()


class Mailer(Protocol):
    def send(self, mail: Mail) -> None:
        """Deliver the mail or raise ``OSError`` / ``smtplib.SMTPException``."""
        ...


def _message(mail: Mail, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = mail.to
    msg["Subject"] = mail.subject
    msg["Date"] = email.utils.formatdate(localtime=False)
    msg["Message-ID"] = email.utils.make_msgid(domain="facecoach")
    for name, value in mail.headers:
        msg[name] = value
    msg.set_content(mail.text)
    return msg


@dataclass(frozen=True)
class SmtpMailer:
    """Sends through an SMTP server (``FACECOACH_SMTP_HOST``); a timeout in seconds so a dead server fails
    the send instead of holding the mail thread."""

    host: str
    port: int = 25
    sender: str = "facecoach <no-reply@facecoach.invalid>"
    starttls: bool = False
    user: str = ""
    password: str = ""
    timeout_s: float = 10.0

    def send(self, mail: Mail) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.user:
                smtp.login(self.user, self.password)
            smtp.send_message(_message(mail, self.sender))


@dataclass(frozen=True)
class FileMailer:
    """A site without a mail server: each mail becomes one ``.eml`` file, readable by the server's own
    user only (mode 0600), as a mailbox on that machine would be — not by anyone through the web."""

    directory: Path
    sender: str = "facecoach <no-reply@facecoach.invalid>"

    def send(self, mail: Mail) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.directory / f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{secrets.token_hex(4)}.eml"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(bytes(_message(mail, self.sender)))


def mailer_for(
    smtp_host: str,
    smtp_port: int,
    sender: str,
    data_dir: Path,
    *,
    starttls: bool = False,
    user: str = "",
    password: str = "",
) -> Mailer:
    """SMTP when a host is configured, else files under ``data_dir/mail``."""
    if smtp_host:
        return SmtpMailer(smtp_host, smtp_port, sender, starttls=starttls, user=user, password=password)
    return FileMailer(data_dir / "mail", sender)
