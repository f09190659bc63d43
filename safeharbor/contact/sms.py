"""Sending text messages: an interface, and the only senders we ship (console and test).

A deployment that wants real text messages writes a class with the same ``send`` method (for
its provider's API) and names it in ``SAFEHARBOR_SMS_SENDER``. The text handed to a sender never
names a youth (see ``notify.digest_text``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Protocol, TextIO

from django.conf import settings
from django.utils.module_loading import import_string

DEFAULT_SENDER = "safeharbor.contact.sms.ConsoleSmsSender"


class SmsSender(Protocol):
    def send(self, *, to: str, text: str) -> None: ...


class ConsoleSmsSender:
    """Writes each message to standard output (development, and deployments without SMS)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def send(self, *, to: str, text: str) -> None:
        masked = "*" * max(0, len(to) - 2) + to[-2:]
        self.stream.write(f"[sms to {masked}] {text}\n")


@dataclass(frozen=True)
class SentSms:
    to: str
    text: str


# Messages "sent" by the test sender, like django.core.mail.outbox.
outbox: list[SentSms] = []


class LocmemSmsSender:
    """Keeps messages in ``outbox`` (tests)."""

    def send(self, *, to: str, text: str) -> None:
        outbox.append(SentSms(to=to, text=text))


def sms_sender() -> SmsSender:
    """The configured sender (``SAFEHARBOR_SMS_SENDER``, a dotted path), read when used."""
    path = getattr(settings, "SAFEHARBOR_SMS_SENDER", DEFAULT_SENDER)
    sender: SmsSender = import_string(path)()
    return sender
