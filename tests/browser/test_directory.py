"""The resource directory in a real browser: the public finder (axe, a phone, no cookies, the
quick exit that leaves no finder page in the history) and the workers' search page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from safeharbor.directory import taxonomy
from safeharbor.directory.tests.factories import load, service_object

from .conftest import PHONE, log_in
from .test_accessibility import PageChecker

pytestmark = pytest.mark.browser
NEUTRAL = "https://www.weather.gov/"


@pytest.fixture
def directory(transactional_db):
    load(
        service_object(
            name="Harbor Youth Shelter",
            codes=("need-shelter", taxonomy.EXPLOITED_YOUTH),
            capacity=(3, 10),
            free=True,
        ),
        service_object(
            name="Lantern Safe House",
            description="A residential program.",
            confidential=True,
            lat=37.76,
            lon=-122.42,
        ),
        service_object(
            name="Bayview Teen Clinic", description="Health care for teens.", lat=37.73, lon=-122.39
        ),
    )


def _neutral_site(page: Page) -> None:
    """The quick exit's neutral site, answered locally (the tests have no network)."""
    page.route(
        f"{NEUTRAL}**",
        lambda route: route.fulfill(
            status=200, content_type="text/html", body="<title>Weather</title><p>Sunny</p>"
        ),
    )


def test_finder_is_accessible_on_a_phone_and_sets_no_cookie(new_page, directory):
    check = PageChecker()
    page = new_page(PHONE)
    page.goto("/find/")
    expect(page.get_by_role("link", name="Quick exit")).to_be_visible()
    expect(page.get_by_text("1-888-373-7888")).to_be_visible()
    check(page, "finder")
    page.get_by_label("What do you need?").fill("sheltr")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="1 service found")).to_be_visible()
    check(page, "finder results")
    page.get_by_role("link", name="Harbor Youth Shelter").click()
    expect(page.get_by_role("heading", name="Harbor Youth Shelter", exact=True)).to_be_visible()
    check(page, "finder service")
    page.goto("/find/?q=safe+house")
    page.get_by_role("link", name="Lantern Safe House").click()
    expect(page.get_by_text("Confidential location.")).to_be_visible()
    check(page, "finder confidential service")
    page.goto("/find/?lang=es")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    check(page, "finder in Spanish")
    assert page.context.cookies() == []
    check.assert_clean()


@pytest.mark.parametrize("how", ["button", "escape"])
def test_quick_exit_leaves_no_finder_page_in_the_history(new_page, directory, how):
    page = new_page(PHONE)
    _neutral_site(page)
    page.goto("/find/")
    entries = page.evaluate("history.length")
    page.get_by_label("What do you need?").fill("shelter")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="1 service found")).to_be_visible()
    page.get_by_role("link", name="Harbor Youth Shelter").click()
    page.wait_for_url("**/find/services/**")
    expect(page.get_by_role("heading", name="Harbor Youth Shelter", level=1)).to_be_visible()
    if how == "button":
        page.get_by_role("link", name="Quick exit").click()
    else:
        page.keyboard.press("Escape")
    page.wait_for_url(f"{NEUTRAL}**")
    # Searching and opening a service replaced the one finder entry; the exit replaced it too.
    assert page.evaluate("history.length") == entries
    page.go_back()
    assert "/find/" not in page.url


def test_quick_exit_works_without_javascript(browser, live_server, directory):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    _neutral_site(page)
    page.goto("/find/")
    page.get_by_role("link", name="Quick exit").click()
    page.wait_for_url(f"{NEUTRAL}**")
    context.close()


def test_workers_search_page(new_page, mfa_world, directory):
    check = PageChecker()
    page = new_page()
    log_in(page, mfa_world.county_caseworker)
    page.goto("/directory/")
    check(page, "directory search")
    page.get_by_label("What do you need?").fill("clinic")
    page.get_by_label("ZIP code").fill("94110")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="1 service found")).to_be_visible()
    check(page, "directory results")
    page.get_by_role("link", name="Bayview Teen Clinic").click()
    expect(page.get_by_text("Updated")).to_be_visible()
    check(page, "directory service")
    check.assert_clean()
