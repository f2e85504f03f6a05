"""Joining and changing a plan go through a :class:`PaymentProvider`. The built-in
:class:`TestPaymentProvider` moves no money: test card numbers succeed or decline, like a real provider's
sandbox, and the subscription lives in facecoach's database alone. The real provider is
:class:`facecoach.members.stripe_payments.StripeProvider` (Stripe Checkout, signed webhooks), chosen by
the settings (:func:`provider_for`); nothing else changes.
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


class PaymentError(RuntimeError):
    """The provider refused or could not be reached: nothing was changed, the member may try again."""


@dataclass(frozen=True)
class CheckoutRequest:
    """A member about to pay on the provider's own page (their card never reaches facecoach)."""

    user_id: int
    customer_email: str
    plan: str
    billing: str
    success_url: str
    cancel_url: str


@dataclass(frozen=True)
class CheckoutStart:
    url: str  # where the member pays
    reference: str  # the provider's id of the checkout


class PaymentProvider(Protocol):
    name: str
    #: True: joining sends the member to the provider's payment page (:meth:`start_checkout`) and the
    #: provider's webhook says when they have paid; False: facecoach's form takes a card (:meth:`charge`).
    hosted_checkout: bool

    def charge(self, request: ChargeRequest) -> ChargeResult: ...

    def start_checkout(self, request: CheckoutRequest) -> CheckoutStart: ...

    def set_cancel_at_period_end(self, subscription_ref: str, cancel: bool) -> None:
        """End the subscription at its period's end (``cancel``), or take that back."""

    def change_price(self, subscription_ref: str, item_ref: str, price_key: str) -> None:
        """Bill the subscription at another price from now on (the unused part of the old one credited)."""


class TestPaymentProvider:
    """No real money. 4242 4242 4242 4242 succeeds; 4000 0000 0000 0002 declines; anything else that is
    not a valid card number (Luhn) is refused as invalid."""

    __test__ = False  # not a pytest class
    name = "test"
    hosted_checkout = False
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
            return ChargeResult("succeeded", reference, "test payment accepted, no money moved")
        return ChargeResult("declined", reference, "the card was declined by the test provider")

    def start_checkout(self, request: CheckoutRequest) -> CheckoutStart:
        raise PaymentError("the test provider takes the card on facecoach's own form")

    def set_cancel_at_period_end(self, subscription_ref: str, cancel: bool) -> None:
        """Nothing to tell: the subscription is facecoach's own row."""

    def change_price(self, subscription_ref: str, item_ref: str, price_key: str) -> None:
        """Nothing to tell: the subscription is facecoach's own row."""


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
