"""Self-service billing with the test provider, over HTTP (issue 18): a member joins, sees each payment
with its amount, switches from monthly to yearly billing with the difference stated before confirming,
cancels at the period's end with the date stated, takes it back; each change is confirmed on a page of
its own, needs the CSRF token, and is sent as a mail (received by a real SMTP server)."""

from __future__ import annotations

import datetime as dt
import html
import re

from sqlalchemy import select

from facecoach.members.billing import add_months, change_quote, lapse_due, subscription_of
from facecoach.members.models import Payment
from facecoach.members.studio_models import Subscription
from tests.web.fixtures import Site

CARD = "4242 4242 4242 4242"


def _flash(page: str) -> str:
    found = re.search(r'class="flash[^"]*"[^>]*>(.*?)</', page, re.S)
    assert found, "no flash message on the page"
    return html.unescape(found.group(1))


def _join(site: Site, billing: str = "monthly") -> str:
    c = site.client("free")
    token = site.csrf("free", "/membership")
    r = c.post(
        "/membership/join",
        data={"plan": "member", "billing": billing, "card_number": CARD, "csrf_token": token},
    )
    assert r.status_code == 200 and site.user("free").plan == "member"
    return _flash(r.text)


def test_joining_says_so_without_nested_brackets_and_lists_the_payment_with_its_amount(site: Site) -> None:
    message = _join(site)
    assert (
        message == "You are a member now: test payment accepted, no money moved. Start with the assessment."
    )
    assert not re.search(r"\([^)]*\(", message)
    page = site.client("free").get("/account").text
    assert re.search(r'class="amount">€12\.00<', page)
    assert "Monthly · €12.00 a month" in page and "Renews" in page
    with site.db.session() as s:
        sub = subscription_of(s, site.user_ids["free"])
        assert sub is not None and sub.period_start is not None and sub.period_end is not None
        assert sub.period_end == add_months(sub.period_start, 1)
    assert "Amount: €12.00" in site.mail_to("free@example.org", 1)[0].text  # the receipt


def test_change_to_yearly_states_the_difference_then_charges_it(site: Site) -> None:
    _join(site)
    c = site.client("free")
    page = c.get("/membership/change?billing=yearly").text
    statement = html.unescape(re.search(r'id="change-statement">(.*?)</p>', page, re.S).group(1))  # type: ignore[union-attr]
    assert statement.startswith("Yearly: €120.00 a year instead of €12.00 a month (€24.00 a year less).")
    assert re.search(
        r"You pay €10[89]\.\d\d now: €120\.00 less the unused \d+ days of your monthly price", statement
    )
    token = site.csrf("free", "/account")
    # Without the confirmation: back to the page that states it, nothing changed.
    r = c.post("/membership/change", data={"billing": "yearly", "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/membership/change?billing=yearly"
    r = c.post("/membership/change", data={"billing": "yearly", "confirm": "yes", "csrf_token": token})
    assert _flash(r.text).startswith("Done. Yearly: €120.00 a year")
    with site.db.session() as s:
        sub = s.scalars(select(Subscription).where(Subscription.user_id == site.user_ids["free"])).one()
        assert sub.billing == "yearly" and sub.period_start is not None and sub.period_end is not None
        assert sub.period_end == add_months(sub.period_start, 12)
        amounts = [p.amount_cents for p in s.scalars(select(Payment).order_by(Payment.id))]
    assert amounts[0] == 1200 and 10800 <= amounts[1] <= 10900
    assert "Yearly · €120.00 a year" in c.get("/account").text
    changed = site.mail_to("free@example.org", 2)[-1]
    assert (
        "billing has changed" in changed.subject
        and "€120.00 a year instead of €12.00 a month" in changed.text
    )
    # The same billing again, or one that does not exist: refused, said.
    assert "already billed yearly" in _flash(c.get("/membership/change?billing=yearly").text)
    assert "no 'weekly' billing" in _flash(c.get("/membership/change?billing=weekly").text)


def test_cancel_at_the_period_end_with_its_date_then_keep_it(site: Site) -> None:
    _join(site)
    c = site.client("free")
    with site.db.session() as s:
        sub = subscription_of(s, site.user_ids["free"])
        assert sub is not None and sub.period_end is not None
        ends = f"{sub.period_end:%d %B %Y}"
    page = c.get("/membership/cancel").text
    assert f"ends on <strong>{ends}</strong>" in page and "nothing more is charged" in page
    token = site.csrf("free", "/account")
    r = c.post("/membership/cancel", data={"confirm": "yes", "csrf_token": token})
    assert (
        _flash(r.text)
        == f"Your membership is cancelled. You keep everything until {ends}, then the free plan."
    )
    assert site.user("free").plan == "member" and "Keep my membership" in r.text
    mail = site.mail_to("free@example.org", 2)[-1]
    assert "is cancelled" in mail.subject and f"until {ends}" in mail.text
    # Cancelling twice: said, nothing changes.
    r = c.post("/membership/cancel", data={"confirm": "yes", "csrf_token": token})
    assert "already cancelled" in _flash(r.text)
    r = c.post("/membership/resume", data={"csrf_token": token})
    assert _flash(r.text) == f"Your membership continues: it renews on {ends}."
    assert "continues" in site.mail_to("free@example.org", 3)[-1].subject
    with site.db.session() as s:
        sub = subscription_of(s, site.user_ids["free"])
        assert sub is not None and not sub.cancel_at_period_end
        # Not cancelled: at the period's end it renews (a renewal payment), the member stays.
        assert lapse_due(s, now=sub.period_end + dt.timedelta(hours=1)) == 0  # type: ignore[operator]
    with site.db.session() as s:
        assert len(list(s.scalars(select(Payment).where(Payment.user_id == site.user_ids["free"])))) == 2
    assert site.user("free").plan == "member"


def test_self_service_needs_a_membership_and_the_token(site: Site) -> None:
    c = site.client("free")  # on the free plan: nothing to cancel or change
    assert "no paid membership to cancel" in _flash(c.get("/membership/cancel").text)
    assert "no paid membership to change" in _flash(c.get("/membership/change?billing=yearly").text)
    _join(site)
    r = c.post("/membership/cancel", data={"confirm": "yes"}, follow_redirects=False)
    assert r.status_code == 403
    with site.db.session() as s:
        sub = subscription_of(s, site.user_ids["free"])
        assert sub is not None and not sub.cancel_at_period_end


def test_a_member_from_before_subscriptions_gets_one_from_their_plan_date(site: Site) -> None:
    """Members who joined before 0007 (or were given the plan) have no subscription row: the account
    page opens a monthly one whose period is the month now running from their plan date."""
    site.client("member")
    page = site.client("member").get("/account").text
    assert "Monthly · €12.00 a month" in page and "Cancel membership" in page
    with site.db.session() as s:
        sub = subscription_of(s, site.user_ids["member"])
        assert sub is not None and sub.period_start is not None and sub.period_end is not None
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        assert sub.period_start <= now < sub.period_end


def test_change_quote_arithmetic() -> None:
    start = dt.datetime(2027, 1, 1)
    sub = Subscription(plan="member", billing="monthly", period_start=start, period_end=add_months(start, 1))
    half = start + (sub.period_end - start) / 2  # type: ignore[operator]
    q = change_quote(sub, "yearly", half)
    assert (q.credit_cents, q.due_now_cents, q.unused_days) == (600, 11400, 15)
    assert q.per_year_difference_cents == -2400 and q.renews_on == add_months(half, 12)
    yearly = Subscription(
        plan="member", billing="yearly", period_start=start, period_end=add_months(start, 12)
    )
    q = change_quote(yearly, "monthly", start + dt.timedelta(days=73))
    assert q.credit_cents == 9600 and q.due_now_cents == 1200 - 9600
    assert "Nothing to pay now" in q.statement() and "€84.00 left is credited" in q.statement()
    assert add_months(dt.datetime(2027, 1, 31), 1) == dt.datetime(2027, 2, 28)
