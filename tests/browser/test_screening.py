"""A caseworker completes the shipped indicator checklist on a phone, partly by keyboard alone;
axe finds no violations on the screening pages, and nothing scrolls sideways on a phone."""

from __future__ import annotations

import datetime

import pytest
from playwright.sync_api import expect

from safeharbor.core import clock
from safeharbor.screening import services
from safeharbor.screening.models import Screening
from safeharbor.screening.shipped import load_shipped_instruments

from .conftest import PHONE, log_in
from .test_accessibility import PageChecker

pytestmark = pytest.mark.browser


@pytest.fixture
def check() -> PageChecker:
    return PageChecker()


def test_a_screening_completed_on_a_phone(new_page, mfa_world, check):
    load_shipped_instruments()
    maya = mfa_world.maya
    page = new_page(viewport=PHONE)
    log_in(page, mfa_world.county_caseworker)
    page.goto(f"/youth/{maya.pk}/")
    check(page, "youth page with the screening section")
    page.get_by_role("link", name="Start a screening").first.click()
    expect(page.get_by_role("heading", name="Start a screening")).to_be_visible()
    page.get_by_label("Why is this screen done now?").select_option(label="Intake")
    page.get_by_label("How is it done?").select_option(label="Interview with the youth, in person")
    check(page, "start a screening")
    page.get_by_role("button", name="Start").click()

    # Step 1, by keyboard alone: Space ticks the focused option, Tab moves to the next question,
    # the arrow keys move between a question's options, Enter on the button submits.
    expect(page.get_by_text("Step 1 of 5")).to_be_visible()
    expect(page.get_by_text("NOT VALIDATED").first).to_be_visible()
    check(page, "a step")
    page.get_by_role("radio", name="Yes").first.focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("radio", name="Yes").first).to_be_checked()
    no = page.get_by_role("radio", name="No", exact=True)
    assert [no.nth(i).is_checked() for i in range(3)] == [False, True, True]
    page.get_by_role("button", name="Save and continue").focus()
    page.keyboard.press("Enter")

    # Steps 2 to 5: "No" to everything but one more indicator.
    for step in range(2, 6):
        expect(page.get_by_text(f"Step {step} of 5")).to_be_visible()
        radios = page.get_by_role("radio", name="No", exact=True)
        for index in range(radios.count()):
            radios.nth(index).check()
        if step == 3:
            page.get_by_role("radio", name="Yes").first.check()
        page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", name="Finish the screening")).to_be_visible()
    check(page, "finish")
    page.get_by_role("button", name="Finish and see the result").click()
    expect(page.get_by_role("heading", name="Result: Possible concern")).to_be_visible()
    expect(page.get_by_text("NOT VALIDATED").first).to_be_visible()
    expect(page.get_by_text("A screen is not proof").first).to_be_visible()
    check(page, "result")
    screening = Screening.objects.get()
    assert screening.computed_level == "possible_concern"
    assert screening.score["endorsed"] == ["a1", "c1"]

    page.get_by_label("Next action", exact=True).select_option(label="Arrange a fuller assessment")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your judgement and the next action are saved.")).to_be_visible()

    page.goto(f"/youth/{maya.pk}/")
    expect(page.get_by_role("img", name="Screening levels over time")).to_be_visible()
    check(page, "youth page with a screening history")
    check.assert_clean()


def test_due_list_and_instrument_pages(new_page, mfa_world, check):
    ((checklist, _loaded),) = load_shipped_instruments()
    world = mfa_world
    services.rescreen_interval_set(actor=world.county_admin, instrument_url=checklist.url, days=90)
    services.trigger_record(
        actor=world.county_caseworker,
        youth=world.maya,
        kind="return_from_missing",
        occurred_at=clock.now() - datetime.timedelta(hours=30),
    )
    services.victim_identification_record(
        actor=world.county_caseworker, youth=world.maya, identified_at=clock.now()
    )
    page = new_page()
    log_in(page, world.county_supervisor)
    page.goto("/screening/")
    expect(page.get_by_role("heading", name="Screenings and reports due")).to_be_visible()
    expect(page.get_by_text("Overdue").first).to_be_visible()
    check(page, "due and overdue")
    page.goto("/screening/instruments/")
    check(page, "instruments")
    page.get_by_role("link", name=checklist.title).click()
    expect(page.get_by_text("Blue Campaign").first).to_be_visible()
    check(page, "instrument")
    check.assert_clean()
