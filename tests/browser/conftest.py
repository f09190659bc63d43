"""Browser tests: Playwright (sync API) drives Debian's chromium against the live server.

Never downloads a browser. When /usr/bin/chromium is absent the tests are skipped with a message,
unless SAFEHARBOR_REQUIRE_BROWSER=1 (set by CI), in which case they fail.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, sync_playwright

from safeharbor.accounts.models import User
from safeharbor.core.tests.personas import PASSWORD, World

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
MISSING_CHROMIUM = "Debian's chromium is not installed: apt-get install -y chromium"
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One chromium for the whole package; each test opens its own contexts."""
    if not CHROMIUM.exists():
        if os.environ.get("SAFEHARBOR_REQUIRE_BROWSER") == "1":
            pytest.fail(f"SAFEHARBOR_REQUIRE_BROWSER=1 but {MISSING_CHROMIUM}", pytrace=False)
        pytest.skip(MISSING_CHROMIUM)
    # Playwright's sync API keeps an asyncio loop "running" in this thread, which trips Django's
    # async-unsafe guard on every ORM call from the test (fixtures, flush). The documented way out
    # for Playwright + live_server; limited to this package and restored afterwards.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_page(browser: Browser, live_server: Any) -> Iterator[Callable[..., Page]]:
    """Open a page in a fresh browser context (its own cookies: one user each)."""
    contexts: list[BrowserContext] = []

    def open_page(viewport: ViewportSize | None = None) -> Page:
        context = browser.new_context(base_url=live_server.url, viewport=viewport or DESKTOP)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def mfa_world(world: World) -> World:
    """The personas, each with a confirmed authenticator app."""
    for user in (
        world.county_caseworker,
        world.county_supervisor,
        world.clinic_clinician,
        world.police_officer,
    ):
        TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    return world


def current_code(user: User) -> str:
    """The code the user's authenticator shows now, or the next one if now's was already used.

    django-otp refuses a code twice (``last_t``) and accepts one step either side, so a second
    login in the same 30 seconds uses the next step's code.
    """
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    if totp.t() <= device.last_t:
        totp.time += device.step
    return f"{totp.token():0{device.digits}d}"


def fill_login(page: Page, username: str, password: str = PASSWORD) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in", exact=True).click()


def log_in(page: Page, user: User) -> None:
    """Log in through the pages: password, then the authenticator code."""
    page.goto("/accounts/login/")
    fill_login(page, user.username)
    page.wait_for_url("**/accounts/mfa/**")
    page.get_by_label("6-digit code from your authenticator app").fill(current_code(user))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(lambda url: "/accounts/" not in url)
