"""Joining a plan goes through a :class:`PaymentProvider`. The built-in :class:`TestPaymentProvider`
moves no money: test card numbers succeed or decline, like a real provider's sandbox. A real provider
implements the same protocol and is passed to the app; nothing else changes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Literal, Protocol

ChargeStatus = Literal["succeeded", "declined"]


@dataclass(frozen=True)
class ChargeRequest:
    amount_cents: int
    currency: str
    description: str
    card_number: str
    customer_email: str


@dataclass(frozen=True)
class ChargeResult:
    status: ChargeStatus
    reference: str
    message: str

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"


class PaymentProvider(Protocol):
    name: str

    def charge(self, request: ChargeRequest) -> ChargeResult: ...


class TestPaymentProvider:
    """No real money. 4242 4242 4242 4242 succeeds; 4000 0000 0000 0002 declines; anything else that is
    not a valid card number (Luhn) is refused as invalid."""

    __test__ = False  # not a pytest class
    name = "test"
    SUCCEED = "4242424242424242"
    DECLINE = "4000000000000002"

    def charge(self, request: ChargeRequest) -> ChargeResult:
        number = "".join(ch for ch in request.card_number if ch.isdigit())
        reference = "test_" + secrets.token_hex(8)
        if request.amount_cents <= 0:
            return ChargeResult("declined", reference, "nothing to charge")
        if not _luhn_ok(number):
            return ChargeResult("declined", reference, "that is not a valid card number")
        if number == self.SUCCEED:
            return ChargeResult("succeeded", reference, "test payment accepted (no money moved)")
        return ChargeResult("declined", reference, "the card was declined (test provider)")


def _luhn_ok(number: str) -> bool:
    if not 12 <= len(number) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0
