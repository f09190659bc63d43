"""Consent decides what another agency sees: granted, the clinic sees Maya; revoked, it does not."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from safeharbor.core import clock

from .conftest import log_in

pytestmark = pytest.mark.browser


def test_consent_granted_then_revoked_changes_what_the_clinic_sees(new_page, mfa_world):
    maya_url = f"/youth/{mfa_world.maya.pk}/"
    caseworker = new_page()
    log_in(caseworker, mfa_world.county_caseworker)

    # The caseworker records Maya's consent to share her identity with the clinic.
    caseworker.goto(maya_url)
    caseworker.get_by_role("link", name="Record consent").click()
    caseworker.get_by_label("Signed by").select_option(label="The youth")
    caseworker.get_by_label("Signer's name").fill("Maya Quillfeather")
    caseworker.get_by_label("Share with").select_option(label=mfa_world.clinic.name)
    caseworker.get_by_role("checkbox", name="Identity", exact=True).check()
    caseworker.get_by_label("Purpose").fill("Health follow-up")
    today = clock.today()
    caseworker.get_by_label("Valid from").fill(today.isoformat())
    caseworker.get_by_label("Expires on").fill(today.replace(year=today.year + 1).isoformat())
    caseworker.get_by_role("button", name="Save consent").click()
    caseworker.wait_for_url(f"**{maya_url}")
    expect(caseworker.get_by_text("Consent recorded.")).to_be_visible()

    # The clinician, in a browser of their own, now sees Maya's name.
    clinician = new_page()
    log_in(clinician, mfa_world.clinic_clinician)
    response = clinician.goto(maya_url)
    assert response.status == 200
    assert clinician.get_by_role("heading", level=1).inner_text().startswith("May Quillfeather")

    # The caseworker revokes it, saying why.
    caseworker.get_by_role("link", name=f"Revoke {mfa_world.clinic.name}").click()
    caseworker.get_by_label("Why is the consent revoked?").fill("Maya asked us to stop sharing.")
    caseworker.get_by_role("button", name="Revoke consent").click()
    caseworker.wait_for_url(f"**{maya_url}")
    expect(caseworker.get_by_text("Consent revoked.")).to_be_visible()

    # The clinician's reload finds nothing: the same 404 as a record that does not exist.
    response = clinician.reload()
    assert response.status == 404
    assert "Quillfeather" not in clinician.content()
