"""The Stripe adapter of :class:`facecoach.members.payments.PaymentProvider` (docs/payments.md).

Off unless ``FACECOACH_STRIPE_SECRET_KEY`` is set (:func:`provider_for`). Joining creates a Checkout
Session in subscription mode (the member pays on Stripe's page: no card number reaches facecoach);
cancelling sets ``cancel_at_period_end``; a change of billing replaces the subscription item's price with
an immediate prorated invoice. What Stripe says happened arrives at ``POST /payments/stripe/webhook``:
:meth:`StripeProvider.verified_event` checks its ``Stripe-Signature`` with ``stripe.Webhook`` (HMAC-SHA256
of ``t.payload`` with the endpoint's secret, and a timestamp no older than the tolerance) and
:mod:`facecoach.members.stripe_events` applies it once.

Everything Stripe is asked goes through the official ``stripe`` package's ``StripeClient``; its
``api_base`` is a setting so that the tests (and a local stripe-mock) can stand in for Stripe's API.
"""

from __future__ import annotations

import json
from typing import Any

import stripe

from facecoach.config import Settings
from facecoach.members.payments import (
    ChargeRequest,
    ChargeResult,
    CheckoutRequest,
    CheckoutStart,
    PaymentError,
    PaymentProvider,
    TestPaymentProvider,
)
from facecoach.members.plans import price_keys


class StripeConfigError(ValueError):
    """The Stripe settings are incomplete (a secret key without a webhook secret or a price)."""


class WebhookRefused(ValueError):
    """A webhook body whose signature is missing, wrong or too old, or that is not a Stripe event."""


class StripeProvider:
    name = "stripe"
    hosted_checkout = True

    def __init__(
        self,
        secret_key: str,
        webhook_secret: str,
        prices: dict[str, str],
        *,
        api_base: str = "",
        tolerance_s: int = 300,
    ) -> None:
        missing = [key for key in price_keys() if not prices.get(key)]
        if not webhook_secret:
            raise StripeConfigError("FACECOACH_STRIPE_WEBHOOK_SECRET is needed with a Stripe secret key")
        if missing:
            raise StripeConfigError(f"FACECOACH_STRIPE_PRICES has no Stripe price for {', '.join(missing)}")
        self.prices = {key: prices[key] for key in price_keys()}
        #: Stripe price id → our price key (``member-yearly``), to read the events back.
        self.price_keys = {price: key for key, price in self.prices.items()}
        self._webhook_secret = webhook_secret
        self._tolerance_s = tolerance_s
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base.rstrip("/")} if api_base else None,
            max_network_retries=1,
        )

    # -- the requests facecoach makes ------------------------------------------------------------------

    def charge(self, request: ChargeRequest) -> ChargeResult:
        raise PaymentError(
            "with Stripe the member pays on Stripe's checkout page, not with a card number here"
        )

    def start_checkout(self, request: CheckoutRequest) -> CheckoutStart:
        key = f"{request.plan}-{request.billing}"
        metadata = {"user_id": str(request.user_id), "plan": request.plan, "billing": request.billing}
        try:
            session = self._client.v1.checkout.sessions.create(
                params={
                    "mode": "subscription",
                    "line_items": [{"price": self.prices[key], "quantity": 1}],
                    "customer_email": request.customer_email,
                    "client_reference_id": str(request.user_id),
                    "success_url": request.success_url,
                    "cancel_url": request.cancel_url,
                    "metadata": metadata,
                    "subscription_data": {"metadata": metadata},
                }
            )
        except KeyError as exc:
            raise PaymentError(f"no Stripe price for {key}") from exc
        except stripe.StripeError as exc:
            raise PaymentError(_why(exc)) from exc
        if not session.url:
            raise PaymentError("Stripe answered without a checkout page")
        return CheckoutStart(url=session.url, reference=session.id)

    def set_cancel_at_period_end(self, subscription_ref: str, cancel: bool) -> None:
        try:
            self._client.v1.subscriptions.update(subscription_ref, params={"cancel_at_period_end": cancel})
        except stripe.StripeError as exc:
            raise PaymentError(_why(exc)) from exc

    def change_price(self, subscription_ref: str, item_ref: str, price_key: str) -> None:
        if price_key not in self.prices:
            raise PaymentError(f"no Stripe price for {price_key}")
        try:
            self._client.v1.subscriptions.update(
                subscription_ref,
                params={
                    "items": [{"id": item_ref, "price": self.prices[price_key]}],
                    "proration_behavior": "always_invoice",
                    "metadata": {"billing": price_key.partition("-")[2]},
                },
            )
        except stripe.StripeError as exc:
            raise PaymentError(_why(exc)) from exc

    # -- what Stripe tells facecoach -------------------------------------------------------------------

    def verified_event(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        """The event in ``payload`` as a plain dict, once its ``Stripe-Signature`` is verified (the
        official library's ``Webhook.construct_event``); :class:`WebhookRefused` otherwise."""
        try:
            stripe.Webhook.construct_event(payload, signature, self._webhook_secret, self._tolerance_s)
            event = json.loads(payload)
        except stripe.SignatureVerificationError as exc:
            raise WebhookRefused(f"signature refused: {exc.user_message or exc}") from None
        except (ValueError, TypeError, AttributeError) as exc:  # signed, but not JSON or not an object
            raise WebhookRefused(f"not a Stripe event: {type(exc).__name__}") from None
        if not (
            isinstance(event, dict)
            and isinstance(event.get("id"), str)
            and isinstance(event.get("type"), str)
            and isinstance(event.get("created"), int)
            and isinstance(event.get("data"), dict)
            and isinstance(event["data"].get("object"), dict)
        ):
            raise WebhookRefused("not a Stripe event: id, type, created and data.object are needed")
        return event


def _why(exc: stripe.StripeError) -> str:
    return f"Stripe: {exc.user_message or type(exc).__name__}"


def provider_for(settings: Settings) -> PaymentProvider:
    """Stripe when ``FACECOACH_STRIPE_SECRET_KEY`` is set (its other settings then checked), else the
    test provider."""
    if not settings.stripe_secret_key:
        return TestPaymentProvider()
    return StripeProvider(
        settings.stripe_secret_key,
        settings.stripe_webhook_secret,
        settings.stripe_prices,
        api_base=settings.stripe_api_base,
        tolerance_s=settings.stripe_webhook_tolerance_s,
    )
