"""axe finds no WCAG violations on the main pages, and nothing scrolls sideways on a phone.

Each page is checked at a desktop size and at a phone size (390x844). Failures are collected and
reported together, so one run shows every page that needs work.
"""

from __future__ import annotations

import datetime

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from safeharbor.access.services import break_glass_open
from safeharbor.core import clock
from safeharbor.core.tests.personas import World
from safeharbor.youth.services import consent_grant, youth_create

from .conftest import DESKTOP, PHONE, fill_login, log_in

pytestmark = pytest.mark.browser

_OVERFLOW = "document.documentElement.scrollWidth <= window.innerWidth + 1"


class PageChecker:
    """Runs axe and the phone-width check on the current page; remembers what failed."""

    def __init__(self) -> None:
        self.axe = Axe()
        self.problems: list[str] = []

    def __call__(self, page: Page, name: str) -> None:
        for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(viewport)
            results = self.axe.run(page)
            if results.violations_count:
                self.problems.append(
                    f"axe, {name} ({label}, {page.url}):\n{results.generate_report()}"
                )
            if label == "phone" and not page.evaluate(_OVERFLOW):
                widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
                self.problems.append(f"{name} scrolls sideways on a phone: {widths}")
        page.set_viewport_size(DESKTOP)

    def assert_clean(self) -> None:
        assert not self.problems, "\n\n".join(self.problems)


@pytest.fixture
def check() -> PageChecker:
    return PageChecker()


def _share_screening_with_clinic(world: World) -> int:
    today = clock.today()
    consent = consent_grant(
        actor=world.county_caseworker,
        youth=world.maya,
        signer_kind="youth",
        signer_name="Maya Quillfeather",
        signer_is_suspected_exploiter=False,
        recipient_agency=world.clinic,
        categories=["screening"],
        purpose="Health follow-up",
        valid_from=today,
        expires_on=today + datetime.timedelta(days=180),
    )
    return consent.pk


def test_login_and_mfa_pages(new_page, mfa_world, check):
    page = new_page()
    page.goto("/accounts/login/")
    check(page, "login")
    fill_login(page, mfa_world.county_caseworker.username, password="not the password")
    expect(page.get_by_role("alert")).to_be_visible()
    assert page.get_by_label("Username").input_value() == "county_caseworker"
    check(page, "login with an error")
    fill_login(page, mfa_world.county_caseworker.username)
    page.wait_for_url("**/accounts/mfa/**")
    check(page, "MFA")
    page.get_by_label("6-digit code from your authenticator app").fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("That code did not match")).to_be_visible()
    check(page, "MFA with an error")
    check.assert_clean()


def test_caseworker_pages(new_page, mfa_world, check):
    consent_id = _share_screening_with_clinic(mfa_world)
    maya = f"/youth/{mfa_world.maya.pk}"
    page = new_page()
    log_in(page, mfa_world.county_caseworker)

    check(page, "caseload")
    page.goto(f"{maya}/")
    check(page, "youth detail (owner)")

    page.goto(f"{maya}/consents/new/")
    check(page, "consent form")
    page.get_by_label("Purpose").fill("Coordinated care")
    page.get_by_role("button", name="Save consent").click()
    assert page.locator(".has-error").count() >= 1
    assert page.get_by_label("Purpose").input_value() == "Coordinated care"
    check(page, "consent form with errors")

    page.goto(f"{maya}/consents/{consent_id}/revoke/")
    check(page, "revoke consent")

    page.goto("/youth/new/")
    page.get_by_label("Given name").fill("Jordan")
    page.get_by_label("Date of birth").fill("2099-01-01")
    page.get_by_role("button", name="Create record").click()
    expect(page.get_by_text("The date of birth cannot be in the future.")).to_be_visible()
    assert page.get_by_label("Given name").input_value() == "Jordan"
    check(page, "new youth form with errors")

    page.goto("/youth/find/")
    check(page, "find a youth")
    page.get_by_label("Given name").fill("Maya")
    page.get_by_label("Family name").fill("Quillfeather")
    page.get_by_label("Date of birth").fill("2010-04-02")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="Results")).to_be_visible()
    check(page, "find a youth, results")
    check.assert_clean()


def test_consented_other_agency_sees_what_is_shared(new_page, mfa_world, check):
    _share_screening_with_clinic(mfa_world)
    page = new_page()
    log_in(page, mfa_world.clinic_clinician)
    page.goto(f"/youth/{mfa_world.maya.pk}/")
    expect(page.get_by_text("Not shared with your agency.").first).to_be_visible()
    assert "Quillfeather" not in page.content()
    check(page, "youth detail (consented other agency)")
    check.assert_clean()


def test_supervisor_pages(new_page, mfa_world, check):
    world = mfa_world
    valley_youth = youth_create(
        actor=world.other_caseworker,
        owning_agency=world.valley,
        given_name="Rowan",
        family_name="Ashdown",
        date_of_birth=datetime.date(2009, 9, 9),
        county="Valley",
    )
    break_glass_open(
        actor=world.county_caseworker,
        youth=valley_youth,
        reason="Youth reported missing tonight; need contact details now.",
    )
    page = new_page()
    log_in(page, world.county_supervisor)
    page.goto(f"/youth/{world.maya.pk}/access-log/")
    expect(page.get_by_role("heading", name="Who accessed this record")).to_be_visible()
    check(page, "access log")
    page.goto("/access/break-glass/")
    expect(page.get_by_role("cell", name=valley_youth.record_number)).to_be_visible()
    check(page, "break-glass review")
    check.assert_clean()
