"""Staying in touch in a browser: a contact attempt logged in three taps or fewer on a phone,
and the contact pages free of axe violations at phone and desktop sizes."""

from __future__ import annotations

import datetime

import pytest
from playwright.sync_api import expect

from safeharbor.contact import services
from safeharbor.contact.choices import Channel
from safeharbor.contact.models import ContactAttempt
from safeharbor.core import clock

from .conftest import PHONE, log_in
from .test_accessibility import PageChecker

pytestmark = pytest.mark.browser


def _plan_and_episode(world):
    services.contact_plan_save(
        actor=world.county_caseworker,
        youth=world.maya,
        methods=[(Channel.TEXT, "555-0142"), (Channel.PHONE, "555-0142")],
        safe_times="After 4 pm",
        code_word="blue kite",
        never_use="The old placement's landline",
    )
    now = clock.now()
    return services.missing_episode_open(
        actor=world.county_caseworker,
        youth=world.maya,
        started_at=now - datetime.timedelta(hours=3),
        learned_at=now - datetime.timedelta(hours=2),
        description="Star tattoo on the left wrist",
    )


def test_a_contact_attempt_takes_at_most_three_taps_on_a_phone(new_page, mfa_world):
    _plan_and_episode(mfa_world)
    page = new_page(viewport=PHONE)
    log_in(page, mfa_world.county_caseworker)
    page.goto(f"/youth/{mfa_world.maya.pk}/")
    taps = 0

    page.get_by_role("link", name="Log contact").click()
    taps += 1
    expect(page.get_by_role("heading", level=1)).to_contain_text("Log contact")
    # The plan's first way (text message) is already chosen; what happened is one button.
    expect(page.get_by_role("radio", name="Text message (555-0142)")).to_be_checked()
    expect(page.get_by_text("The old placement's landline")).to_be_visible()
    page.get_by_role("button", name="No answer").click()
    taps += 1

    page.wait_for_url(f"**/youth/{mfa_world.maya.pk}/")
    expect(page.get_by_text("Contact attempt logged.")).to_be_visible()
    assert taps <= 3
    attempt = ContactAttempt.objects.get()
    assert (attempt.channel, attempt.outcome) == ("text", "no_answer")


def test_the_contact_pages_pass_axe_on_phone_and_desktop(new_page, mfa_world):
    episode = _plan_and_episode(mfa_world)
    check = PageChecker()
    maya = mfa_world.maya.pk
    page = new_page()
    log_in(page, mfa_world.county_caseworker)
    for path, name in [
        (f"/youth/{maya}/", "youth page with the contact section"),
        (f"/contact/youth/{maya}/log/", "log contact"),
        (f"/contact/youth/{maya}/plan/", "contact plan form"),
        (f"/contact/youth/{maya}/check-ins/new/", "schedule a check-in"),
        (f"/contact/youth/{maya}/missing/{episode.pk}/", "missing episode with live clocks"),
        (f"/contact/youth/{maya}/missing/{episode.pk}/report/ncmec/", "report to NCMEC"),
        ("/contact/attention/", "needs attention today"),
        ("/contact/notifications/", "notifications"),
        ("/contact/calendar/", "my check-ins"),
    ]:
        page.goto(path)
        check(page, name)
    page.goto(f"/contact/youth/{maya}/missing/{episode.pk}/return/")
    page.get_by_label("When the youth returned").fill("2000-01-01T10:00")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("before the youth went missing")).to_be_visible()
    check(page, "return form with an impossible time")
    supervisor = new_page()
    log_in(supervisor, mfa_world.county_supervisor)
    supervisor.goto("/contact/attention/team/")
    expect(supervisor.get_by_text("Report to NCMEC").first).to_be_visible()
    check(supervisor, "team attention page")
    check.assert_clean()
