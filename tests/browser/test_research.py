"""The research workbench in a browser: axe on every study page (desktop and phone), coding
by selecting text with the mouse, then by the keyboard-only form, and reorganising the codebook
by drag and drop."""

from __future__ import annotations

import os
import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from safeharbor.core.tests.personas import World
from safeharbor.directory.models import Service
from safeharbor.directory.tests.factories import load, service_object
from safeharbor.research.demo import seed_research_demo
from safeharbor.research.models import Code, Debrief, Segment, Study, Transcript
from safeharbor.research.tests.factories import enrol

from .conftest import log_in
from .test_accessibility import PageChecker

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("SAFEHARBOR_SCREENSHOTS", "")


def _shot(page: Page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


@pytest.fixture
def study(world: World) -> Study:
    TOTPDevice.objects.create(user=world.university_researcher, name="App", confirmed=True)
    seed_research_demo(lead=world.university_researcher)
    return Study.objects.get()


def test_study_pages_pass_axe(new_page, world, study):
    check = PageChecker()
    page = new_page()
    log_in(page, world.university_researcher)
    transcript = Transcript.objects.filter(study=study).order_by("name")[0]
    code = study.codes.get(name="Agencies do not share")
    participant = study.participants.get(code="P01")
    waiting = enrol(study, world.university_researcher, "P99", debrief=False)
    for name, url in [
        ("study list", "/research/"),
        ("study", f"/research/{study.pk}/"),
        ("participant", f"/research/{study.pk}/participants/{participant.pk}/"),
        ("transcript", f"/research/{study.pk}/transcripts/{transcript.pk}/"),
        ("codebook", f"/research/{study.pk}/codebook/"),
        ("code", f"/research/{study.pk}/codes/{code.pk}/"),
        ("analysis", f"/research/{study.pk}/analysis/"),
        ("analysis by attribute", f"/research/{study.pk}/analysis/?by=agency"),
        ("word frequency", f"/research/{study.pk}/analysis/words/"),
        ("redaction", f"/research/{study.pk}/transcripts/{transcript.pk}/redact/"),
        ("redaction key", f"/research/{study.pk}/redaction-key/"),
        ("memo redaction", f"/research/{study.pk}/memos/redact/"),
        ("debrief", f"/research/{study.pk}/participants/{waiting.pk}/debrief/"),
        ("import transcripts", f"/research/{study.pk}/transcripts/import/"),
        ("new study", "/research/new/"),
    ]:
        page.goto(url)
        expect(page.locator("h1")).to_be_visible()
        check(page, name)
        _shot(page, name.replace(" ", "-"))
    check.assert_clean()


def test_code_by_selecting_text_and_by_keyboard(new_page, world, study):
    page = new_page()
    log_in(page, world.university_researcher)
    transcript = Transcript.objects.filter(study=study).order_by("name")[0]
    before = Segment.objects.filter(transcript=transcript).count()
    page.goto(f"/research/{study.pk}/transcripts/{transcript.pk}/")
    # select the words "Interviewer" of the first paragraph with the mouse
    first = page.locator("#transcript p").first
    box = first.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 1, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + 60, box["y"] + box["height"] / 2)
    page.mouse.up()
    start = page.get_by_label("From character").input_value()
    end = page.get_by_label("To character").input_value()
    assert start == "0"
    assert int(end) > 0
    expect(page.locator("#selection-status")).to_contain_text("Selected")
    page.get_by_label("Funding", exact=True).check()
    page.get_by_role("button", name="Apply", exact=True).click()
    expect(page.get_by_text("Coded.")).to_be_visible()
    assert Segment.objects.filter(transcript=transcript).count() == before + 1
    segment = Segment.objects.filter(transcript=transcript, start=0).get()
    assert transcript.text[segment.start : segment.end].startswith("Interv")
    # keyboard only: choose a paragraph, tick a code, apply
    page.get_by_label("Paragraph").select_option(index=3)
    page.get_by_label("Staff turnover").check()
    page.get_by_role("button", name="Apply", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Coded.")).to_be_visible()
    assert Segment.objects.filter(transcript=transcript).count() == before + 2
    _shot(page, "transcript-after-coding")


def test_redact_words_found_by_hand_then_read_the_key(new_page, world, study):
    """Add words by hand, tick, replace: the transcript shows the placeholder, the lead's key
    shows the words, and both pages pass axe."""
    check = PageChecker()
    page = new_page()
    log_in(page, world.university_researcher)
    transcript = Transcript.objects.filter(study=study).order_by("name")[0]
    word = re.findall(r"\b[a-z]{8,}\b", transcript.text)[0]
    page.goto(f"/research/{study.pk}/transcripts/{transcript.pk}/")
    page.get_by_role("link", name="Redact names, places and numbers").click()
    page.get_by_label("Words to redact").fill(word)
    page.get_by_label("They are").select_option("place")
    page.get_by_role("button", name="Find them").click()
    expect(page.locator("table.redactions mark").first).to_have_text(word, ignore_case=True)
    check(page, "redaction with words added")
    _shot(page, "redaction")
    page.get_by_role("button", name="Replace the ticked words").click()
    expect(page.locator("#transcript")).to_contain_text("[PLACE 1]")
    assert word.casefold() not in Transcript.objects.get(pk=transcript.pk).text.casefold()
    page.goto(f"/research/{study.pk}/redaction-key/")
    expect(page.locator("tbody")).to_contain_text(word)
    check(page, "redaction key with a row")
    _shot(page, "redaction-key")
    check.assert_clean()


def test_record_a_debrief_with_directory_services_by_keyboard(new_page, world, study):
    load(service_object(name="Harbor Counselling Line", description="Counselling by phone."))
    service = Service.objects.get(name="Harbor Counselling Line")
    waiting = enrol(study, world.university_researcher, "P99", debrief=False)
    page = new_page()
    log_in(page, world.university_researcher)
    page.goto(f"/research/{study.pk}/participants/{waiting.pk}/debrief/")
    page.get_by_label("Debrief statement version").select_option(index=1)
    page.get_by_label("Date of the debrief").fill(str(waiting.consent.interview.interviewed_on))
    page.get_by_label("Search the directory").fill("counselling")
    page.get_by_role("button", name="Search", exact=True).focus()
    page.keyboard.press("Enter")
    box = page.get_by_label("Harbor Counselling Line (Harbor Counselling Line Society)")
    expect(box).to_be_visible()
    box.focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Debrief recorded.")).to_be_visible()
    expect(page.get_by_role("link", name="Harbor Counselling Line")).to_be_visible()
    debrief = Debrief.objects.get(interview__consent__participant=waiting)
    assert list(debrief.services_offered.all()) == [service]


def test_reorganise_the_codebook_by_drag_and_drop(new_page, world, study):
    """Drag a code into another category, then to the front of it; each drop is saved through
    the move form's view, and "Undo my last move" takes the last one back."""
    check = PageChecker()
    page = new_page()
    log_in(page, world.university_researcher)
    page.goto(f"/research/{study.pk}/codebook/")
    expect(page.locator("#drag-help")).to_be_visible()  # the script runs: the hint shows

    def row(name: str):
        link = page.get_by_role("link", name=name, exact=True)
        return page.locator("#codebook-tree tbody tr", has=link)

    def children(parent: str) -> list[str]:
        return list(
            Code.objects.filter(study=study, parent__name=parent)
            .order_by("position", "name")
            .values_list("name", flat=True)
        )

    assert children("Rules") == ["Consent rules", "Privacy law"]
    moving = row("Agencies do not share")
    target = row("Rules")
    box = target.bounding_box()
    assert box is not None
    moving.drag_to(target, target_position={"x": 40, "y": box["height"] / 2})
    expect(page.get_by_text("“Agencies do not share” moved.")).to_be_visible()
    assert children("Rules") == ["Consent rules", "Privacy law", "Agencies do not share"]
    assert "Agencies do not share" not in children("Practice")
    # reorder within the category: onto the top edge of its first code (the page reloads)
    with page.expect_navigation():
        row("Agencies do not share").drag_to(
            row("Consent rules"), target_position={"x": 40, "y": 2}
        )
    assert children("Rules") == ["Agencies do not share", "Consent rules", "Privacy law"]
    names = page.locator("#codebook-tree tbody tr td:first-child a").all_inner_texts()
    assert names.index("Agencies do not share") == names.index("Rules") + 1
    check(page, "codebook after a drop")
    _shot(page, "codebook-after-drop")
    # a drop the hierarchy forbids (a theme into a category) is refused where it lands
    theme = Code.objects.get(study=study, name="Funding", level="theme")
    row("Funding").drag_to(row("Rules"), target_position={"x": 40, "y": box["height"] / 2})
    assert Code.objects.get(pk=theme.pk).parent_id is None
    page.get_by_role("button", name="Undo my last move").click()
    expect(page.get_by_text("Undone: Moved a code.")).to_be_visible()
    assert children("Rules") == ["Consent rules", "Privacy law", "Agencies do not share"]
    check.assert_clean()
