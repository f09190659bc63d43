"""Logging in: password, then the code from the authenticator app."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import current_code, fill_login

pytestmark = pytest.mark.browser


def test_login_with_mfa_lands_on_my_youth(new_page, mfa_world):
    caseworker = mfa_world.county_caseworker
    page = new_page()
    page.goto("/accounts/login/")
    fill_login(page, caseworker.username)

    page.wait_for_url("**/accounts/mfa/**")
    expect(page.get_by_role("heading", name="Verify it is you")).to_be_visible()
    page.get_by_label("6-digit code from your authenticator app").fill(current_code(caseworker))
    page.get_by_role("button", name="Verify").click()

    page.wait_for_url("**/youth/")
    assert page.get_by_role("heading", level=1).inner_text() == "My youth"
    expect(page.get_by_role("link", name="May Quillfeather")).to_be_visible()
