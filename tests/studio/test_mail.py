"""Studio mail over a real SMTP server (aiosmtpd): welcome and receipts, reminders in the member's time
zone (never on a day already practised), the weekly summary, one-click unsubscribe (RFC 8058), the
``facecoach reminders`` command, and ``FACECOACH_SMTP_URL``."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from facecoach.config import Settings
from facecoach.members.mail import SmtpMailer, SmtpUrlError, parse_smtp_url
from facecoach.members.models import OutboxMessage, PracticeSession
from facecoach.members.practice import record_session
from facecoach.members.studio_models import MailPreference
from facecoach.studio import mailing
from facecoach.studio.reminders import reminder_due, run_once, summary_due
from tests.support.mail import Received
from tests.web.fixtures import Site, csrf_of

UNSUB = re.compile(r"https?://[^\s/]+(/mail/unsubscribe/[A-Za-z0-9_.-]+)")
# Monday 2 November 2026, 12:40 UTC = 07:40 in New York (EST, UTC−5), 13:40 in Vienna.
MONDAY_0740_NY = dt.datetime(2026, 11, 2, 12, 40, tzinfo=dt.UTC)


def unsubscribe_path(mail: Received) -> str:
    found = UNSUB.findall(mail.text)
    assert len(found) == 1, mail.text
    assert mail.headers["list-unsubscribe"].strip("<>").endswith(found[0])
    assert mail.headers["list-unsubscribe-post"] == "List-Unsubscribe=One-Click"
    return str(found[0])


def prefs(site: Site, role: str, **values: Any) -> None:
    site.client(role)
    with site.db.session() as s:
        base = {"reminders": True, "days": [1, 3], "at_local": "07:30", "timezone": "America/New_York"}
        s.add(MailPreference(user_id=site.user_ids[role], **{**base, **values}))


def run(site: Site, now: dt.datetime) -> Any:
    settings = site.app.state.ctx.settings
    mailer = SmtpMailer("127.0.0.1", settings.smtp_port)
    return run_once(site.db, mailer, settings.base_url, settings.secret_key, now)


def test_due_rules_in_the_members_time_zone() -> None:
    pref = MailPreference(reminders=True, days=[1], at_local="07:30", timezone="America/New_York")
    ny = MONDAY_0740_NY.astimezone(dt.timezone(dt.timedelta(hours=-5)))
    assert reminder_due(pref, ny, set())
    assert not reminder_due(pref, ny - dt.timedelta(minutes=15), set())  # 07:25: not yet
    assert not reminder_due(pref, ny + dt.timedelta(hours=3), set())  # 10:40: too late to be useful
    assert not reminder_due(pref, ny + dt.timedelta(days=1), set())  # Tuesday: not a chosen day
    assert not reminder_due(pref, ny, {ny.date()})  # practised already today
    pref.last_reminder_on = ny.date()
    assert not reminder_due(pref, ny, set())  # once a day
    # The same instant is Monday 13:40 in Vienna: past the window there.
    vienna = MailPreference(reminders=True, days=[1], at_local="07:30", timezone="Europe/Vienna")
    assert not reminder_due(vienna, MONDAY_0740_NY.astimezone(dt.timezone(dt.timedelta(hours=1))), set())
    weekly = MailPreference(reminders=False, weekly_summary=True, days=[], at_local="07:30")
    assert summary_due(weekly, ny) and not summary_due(weekly, ny + dt.timedelta(days=1))


def test_reminder_arrives_unsubscribes_in_one_click_and_skips_practised_days(site: Site) -> None:
    prefs(site, "member")
    prefs(site, "other")  # practised this morning (New York), before the reminder time
    with site.db.session() as s:
        record_session(s, site.user_ids["other"], {"technique_ids": ["smile-lift"], "reps": 5})
        row = s.scalar(select(PracticeSession).where(PracticeSession.user_id == site.user_ids["other"]))
        assert row is not None
        row.date, row.created_at = dt.date(2026, 11, 2), dt.datetime(2026, 11, 2, 12, 5)
    assert site.mail is not None
    result = run(site, MONDAY_0740_NY)
    assert (result.reminders, result.summaries, result.failed) == (1, 0, 0)
    [mail] = site.mail_to("member@example.org")
    assert mail.subject == "Time for your face practice" and "/routine" in mail.text
    assert site.mail.to("other@example.org") == []
    path = unsubscribe_path(mail)
    assert run(site, MONDAY_0740_NY + dt.timedelta(minutes=5)).reminders == 0  # once a day
    # The outbox keeps the record, without the unsubscribe link.
    with site.db.session() as s:
        record = s.scalar(select(OutboxMessage).where(OutboxMessage.subject == mail.subject))
        assert record is not None and "/mail/unsubscribe/" not in record.body
    # A forged token does nothing; the real one, POSTed by a mail program with no cookie or CSRF token, does.
    anon = site.client("anon")
    assert anon.post(path[:-3] + "xyz", data={"List-Unsubscribe": "One-Click"}).status_code == 400
    assert anon.get(path).status_code == 200  # a link scanner's GET changes nothing …
    assert run(site, MONDAY_0740_NY + dt.timedelta(days=2)).reminders == 2  # … Wednesday's still come
    assert len(site.mail_to("member@example.org", 2)) == 2
    r = anon.post(path, data={"List-Unsubscribe": "One-Click"})
    assert r.status_code == 200 and "Unsubscribed" in r.text
    with site.db.session() as s:
        pref = s.scalar(select(MailPreference).where(MailPreference.user_id == site.user_ids["member"]))
        assert pref is not None and not pref.reminders and not pref.weekly_summary
    assert run(site, MONDAY_0740_NY + dt.timedelta(days=7)).reminders == 1  # the other member's only
    assert len(site.mail.to("member@example.org")) == 2


def test_weekly_summary_speaks_of_the_members_own_week(site: Site) -> None:
    prefs(site, "member", reminders=False, weekly_summary=True)
    with site.db.session() as s:
        for day in (27, 28, 29):
            summary = {"technique_ids": ["smile-lift"], "reps": 6, "faults": {"forehead_wrinkle": 2}}
            record_session(
                s, site.user_ids["member"], {**summary, "duration_s": 300, "date": f"2026-10-{day}"}
            )
    result = run(site, MONDAY_0740_NY)
    assert result.summaries == 1 and result.reminders == 0
    [mail] = site.mail_to("member@example.org")
    assert "3 times" in mail.text and "about 15 minutes" in mail.text and "forehead wrinkle" in mail.text
    unsubscribe_path(mail)
    assert run(site, MONDAY_0740_NY + dt.timedelta(hours=1)).summaries == 0  # once a week


def test_welcome_and_receipt_arrive_with_the_unsubscribe_link(site: Site) -> None:
    anon = site.client("anon")
    token = csrf_of(anon.get("/signup").text)
    anon.post(
        "/signup", data={"email": "new@example.org", "password": "a good long password", "csrf_token": token}
    )
    confirm = site.mail_to("new@example.org")[0].link()
    anon.post(confirm, data={"csrf_token": csrf_of(anon.get(confirm).text)})
    welcome = site.mail_to("new@example.org", 2)[1]
    assert welcome.subject == "Welcome to facecoach" and "/assessment" in welcome.text
    unsubscribe_path(welcome)
    token = csrf_of(anon.get("/membership").text)
    anon.post(
        "/membership/join", data={"plan": "member", "card_number": "4242424242424242", "csrf_token": token}
    )
    receipt = site.mail_to("new@example.org", 3)[2]
    assert receipt.subject == "Your receipt: facecoach Member" and "Reference: test_" in receipt.text
    unsubscribe_path(receipt)


def test_preferences_are_checked(site: Site) -> None:
    member = site.client("member")
    token = csrf_of(member.get("/account/mail").text)
    form = {"csrf_token": token, "reminders": "1", "days": ["1", "5"], "at_local": "07:30"}
    bad_zone = member.post("/account/mail", data={**form, "timezone": "Mars/Olympus"})
    assert bad_zone.status_code == 400 and "not a time zone" in bad_zone.text
    no_days = member.post("/account/mail", data={**form, "days": [], "timezone": "UTC"})
    assert no_days.status_code == 400 and "at least one day" in no_days.text
    bad_time = member.post("/account/mail", data={**form, "at_local": "25:99", "timezone": "UTC"})
    assert bad_time.status_code == 400
    ok = member.post("/account/mail", data={**form, "timezone": "Asia/Tokyo"}, follow_redirects=False)
    assert ok.status_code == 303
    with site.db.session() as s:
        pref = s.scalar(select(MailPreference).where(MailPreference.user_id == site.user_ids["member"]))
        assert pref is not None and (pref.days, pref.at_local, pref.timezone) == (
            [1, 5],
            "07:30",
            "Asia/Tokyo",
        )


def test_the_reminders_command_sends_over_smtp(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from facecoach.cli import app
    from facecoach.config import get_settings

    now = dt.datetime.now(dt.UTC)
    prefs(site, "member", days=[now.isoweekday()], at_local=now.strftime("%H:%M"), timezone="UTC")
    assert site.mail is not None
    monkeypatch.setenv("DATABASE_URL", site.db.url)
    monkeypatch.setenv("FACECOACH_SMTP_URL", f"smtp://127.0.0.1:{site.mail.port}")
    monkeypatch.setenv("FACECOACH_BASE_URL", "https://studio.example.org")
    get_settings.cache_clear()
    try:
        r = CliRunner().invoke(app, ["reminders", "--json"])
    finally:
        get_settings.cache_clear()
    assert r.exit_code == 0, r.output
    assert '"reminders": 1' in r.stdout
    [mail] = site.mail_to("member@example.org")
    assert urlsplit(mail.headers["list-unsubscribe"].strip().strip("<>")).netloc == "studio.example.org", (
        mail.headers
    )


def test_smtp_url() -> None:
    parsed = parse_smtp_url("smtp://" + "coach%40studio:p%3Ass" + "@mail.example.org:2525?starttls=1")
    assert (parsed.host, parsed.port, parsed.starttls) == ("mail.example.org", 2525, True)
    assert (parsed.user, parsed.password) == ("coach@studio", "p:ss")
    assert parse_smtp_url("smtp://mail.example.org").port == 25
    assert parse_smtp_url("smtp://mail.example.org?starttls=yes").port == 587
    settings = Settings(smtp_url="smtp://" + "u:pw" + "@relay.example.org:587?starttls=1")
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_user, settings.smtp_starttls) == (
        "relay.example.org",
        587,
        "u",
        True,
    )
    for bad, words in (
        ("smtps://mail.example.org", "must start with smtp://"),
        ("smtp://", "no host"),
        ("smtp://mail.example.org:99999", "port"),
        ("smtp://mail.example.org?tls=1", "unknown option"),
    ):
        with pytest.raises(SmtpUrlError, match=words):
            parse_smtp_url(bad)
    with pytest.raises(ValueError, match="must start with smtp://"):
        Settings(smtp_url="http://mail.example.org")


def test_unsubscribe_tokens_are_signed() -> None:
    token = mailing.unsubscribe_token("secret-a", 42)
    assert mailing.unsubscribed_user("secret-a", token) == 42
    assert mailing.unsubscribed_user("secret-b", token) is None
    assert mailing.unsubscribed_user("secret-a", token[:-2] + "zz") is None
