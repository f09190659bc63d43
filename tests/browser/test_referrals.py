"""Closed-loop referrals in a browser: a caseworker refers a youth to a clinic service on a phone,
the clinic's clinician answers from its inbox and records the outcome; the referral form can be
sent by keyboard alone; axe finds no violations on the referral pages, and nothing scrolls
sideways on a phone."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from playwright.sync_api import Page, expect

from safeharbor.core import clock
from safeharbor.core.tests.personas import World
from safeharbor.directory.models import Organization, Service
from safeharbor.directory.tests.factories import load, service_object
from safeharbor.referrals import services
from safeharbor.referrals.models import Referral

from .conftest import PHONE, log_in
from .test_accessibility import PageChecker

pytestmark = pytest.mark.browser

NOTE = "Prefers afternoon appointments."
FROM_COUNTY = "From Harbor County Children's Services"


@pytest.fixture
def clinic_service(mfa_world: World) -> Service:
    """A counselling service of the Bayside clinic, which answers referrals in Safe Harbor."""
    data = service_object(name="Bayside Youth Counseling", codes=("need-counseling",))
    load(data)
    Organization.objects.filter(pk=data["organization"]["id"]).update(agency=mfa_world.clinic)
    return Service.objects.select_related("organization").get(pk=data["id"])


def _refer(world: World, service: Service, sent_at: datetime.datetime | None = None) -> Referral:
    with mock.patch("safeharbor.core.clock.now", return_value=sent_at or clock.now()):
        return services.referral_create(
            actor=world.county_caseworker,
            youth=world.maya,
            service=service,
            need="need-counseling",
            priority="urgent",
            note=NOTE,
            callback="Casey Tester, Harbor County, 555-0100",
        )


def _tab_to(page: Page, element_id: str, limit: int = 60) -> None:
    """Press Tab until the element has the focus (the keyboard's way through the page)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"Tab never reached #{element_id}")


def test_a_referral_made_on_a_phone_is_answered_and_closed_by_the_service(
    new_page, mfa_world, clinic_service
):
    world = mfa_world
    page = new_page(viewport=PHONE)
    log_in(page, world.county_caseworker)
    page.goto(f"/youth/{world.maya.pk}/")
    expect(page.get_by_role("heading", name="Referrals", exact=True)).to_be_visible()

    # Search, pick, fill, send.
    page.get_by_role("link", name="Refer to a service").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Refer to a service")
    page.get_by_label("Search the directory").fill("bayside counseling")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_role("heading", name="1 service found")).to_be_visible()
    page.get_by_role("link", name="Refer to Bayside Youth Counseling").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Refer to Bayside Youth Counseling"
    )
    page.get_by_label("What the youth needs").select_option("need-counseling")
    page.get_by_role("radio", name="Urgent").check()
    page.get_by_label("Note for the service").fill(NOTE)
    expect(page.get_by_label("How the service reaches you")).to_have_value(
        "County Tester, Harbor County Children's Services"
    )
    page.get_by_role("button", name="Send the referral").click()
    expect(page.get_by_text("Referral sent.")).to_be_visible()
    referral = Referral.objects.get()
    assert page.url.endswith(f"/referrals/{referral.pk}/")
    assert (referral.status, referral.priority, referral.note) == ("requested", "urgent", NOTE)

    # The clinic's clinician: the inbox, the referral (de-identified: no consent), accept.
    clinic = new_page()
    log_in(clinic, world.clinic_clinician)
    clinic.goto("/referrals/inbox/")
    expect(clinic.get_by_role("heading", name="Referrals to us")).to_be_visible()
    expect(clinic.get_by_text("de-identified")).to_be_visible()
    clinic.get_by_role("link", name=FROM_COUNTY).click()
    expect(
        clinic.get_by_role("heading", name="Referral to Bayside Youth Counseling")
    ).to_be_visible()
    expect(clinic.get_by_text("De-identified referral")).to_be_visible()
    assert "Quillfeather" not in clinic.content()
    assert NOTE not in clinic.content()
    clinic.get_by_role("radio", name="Accepted", exact=True).check()
    clinic.get_by_role("button", name="Save", exact=True).click()
    expect(clinic.get_by_text("Referral updated.")).to_be_visible()
    referral.refresh_from_db()
    assert referral.status == "accepted"

    # Completing needs an outcome: without one the page says so and keeps the note.
    clinic.get_by_role("radio", name="Completed", exact=True).check()
    clinic.get_by_label("Note", exact=True).fill("Six sessions booked.")
    clinic.get_by_role("button", name="Save", exact=True).click()
    expect(clinic.get_by_text("A referral is closed only with an outcome")).to_be_visible()
    expect(clinic.get_by_label("Note", exact=True)).to_have_value("Six sessions booked.")
    clinic.get_by_role("radio", name="Completed", exact=True).check()
    clinic.get_by_label("Outcome", exact=True).select_option(label="Got help")
    clinic.get_by_role("button", name="Save", exact=True).click()
    expect(clinic.get_by_text("Outcome: Got help")).to_be_visible()
    referral.refresh_from_db()
    assert (referral.status, referral.outcome) == ("completed", "got_help")
    assert referral.outcome_note == "Six sessions booked."

    # The loop closes: the referring worker sees the new outcome.
    page.goto("/referrals/")
    expect(page.get_by_text("new outcome")).to_be_visible()


def test_the_referral_form_is_sent_by_keyboard_alone(new_page, mfa_world, clinic_service):
    world = mfa_world
    page = new_page()
    log_in(page, world.county_caseworker)
    page.goto(f"/referrals/youth/{world.maya.pk}/new/{clinic_service.pk}/?need=need-counseling")
    _tab_to(page, "id_need")
    page.keyboard.press("Tab")  # into the urgency group, on the chosen option ("Routine")
    assert page.evaluate("document.activeElement.id") == "id_priority_0"
    page.keyboard.press("ArrowDown")  # "Urgent"
    expect(page.get_by_role("radio", name="Urgent")).to_be_checked()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_note"
    page.keyboard.type(NOTE)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_callback"
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Send the referral")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Referral sent.")).to_be_visible()
    referral = Referral.objects.get()
    assert (referral.status, referral.need, referral.priority) == (
        "requested",
        "need-counseling",
        "urgent",
    )
    assert referral.note == NOTE


def test_the_referral_pages_pass_axe_on_phone_and_desktop(new_page, mfa_world, clinic_service):
    world = mfa_world
    check = PageChecker()
    # One referral answered in time, one with no answer for three days (waiting too long).
    answered = _refer(world, clinic_service)
    services.referral_move(actor=world.clinic_clinician, referral=answered, to_status="accepted")
    waiting = _refer(world, clinic_service, sent_at=clock.now() - datetime.timedelta(days=3))
    maya = world.maya.pk
    page = new_page()
    log_in(page, world.county_caseworker)
    page.goto(f"/youth/{maya}/")
    check(page, "youth page with the referrals section")
    page.goto(f"/referrals/youth/{maya}/new/")
    check(page, "new referral: search")
    page.get_by_label("Search the directory").fill("counseling")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_role("heading", name="1 service found")).to_be_visible()
    check(page, "new referral: search results")
    page.get_by_role("link", name="Refer to Bayside Youth Counseling").click()
    expect(page.get_by_label("Note for the service")).to_be_visible()
    check(page, "new referral: form")
    # Spaces pass the browser's "required" check; the server still refuses an empty callback.
    page.get_by_label("How the service reaches you").fill("   ")
    page.get_by_role("button", name="Save as a draft").click()
    expect(page.get_by_text("This field is required.")).to_be_visible()
    check(page, "new referral: form with an error")
    page.goto(f"/referrals/{waiting.pk}/")
    expect(page.get_by_text("Waiting too long: follow up")).to_be_visible()
    check(page, "referral detail (referring worker, waiting too long)")
    page.goto("/referrals/")
    check(page, "my referrals")
    page.goto("/referrals/?scope=waiting")
    expect(page.get_by_text("waiting too long (since")).to_be_visible()
    check(page, "my referrals waiting too long")

    clinic = new_page()
    log_in(clinic, world.clinic_clinician)
    clinic.goto("/referrals/inbox/")
    expect(clinic.get_by_role("link", name=FROM_COUNTY)).to_have_count(2)
    check(clinic, "inbox")
    clinic.goto(f"/referrals/{answered.pk}/")
    expect(clinic.get_by_role("radio", name="Completed", exact=True)).to_be_visible()
    check(clinic, "referral detail (service, with the update form)")
    check.assert_clean()
