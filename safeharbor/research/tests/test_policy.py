"""Who reaches a study: only its team, by role; everyone else gets the same 404."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from safeharbor.core.tests.personas import verified_client
from safeharbor.research import services
from safeharbor.research.policy import StudyAction, can, can_create_study, visible_studies

from .factories import make_study


def test_only_researchers_start_studies(world):
    assert can_create_study(world.university_researcher)
    for user in (world.county_caseworker, world.county_analyst, world.county_admin, None):
        assert not can_create_study(user)
    with pytest.raises(PermissionDenied):
        make_study(world.county_caseworker)


def test_a_study_is_visible_only_to_its_team(rworld):
    study = rworld.study
    assert list(visible_studies(rworld.lead)) == [study]
    assert list(visible_studies(rworld.viewer)) == [study]
    assert list(visible_studies(rworld.outsider)) == []  # a researcher, not on the team
    assert list(visible_studies(rworld.world.county_caseworker)) == []
    assert list(visible_studies(None)) == []


@pytest.mark.parametrize(
    ("who", "view", "code", "manage", "export"),
    [
        ("lead", True, True, True, True),
        ("coder", True, True, False, False),
        ("viewer", True, False, False, False),
        ("outsider", False, False, False, False),
    ],
)
def test_roles_in_the_study(rworld, who, view, code, manage, export):
    user = getattr(rworld, who)
    study = rworld.study
    assert can(user, StudyAction.VIEW, study) is view
    assert can(user, StudyAction.CODE, study) is code
    assert can(user, StudyAction.MANAGE, study) is manage
    assert can(user, StudyAction.EXPORT, study) is export


def test_a_caseworker_on_the_team_reaches_the_study(rworld):
    caseworker = rworld.world.county_caseworker
    services.member_add(actor=rworld.lead, study=rworld.study, user=caseworker, role="viewer")
    response = verified_client(caseworker).get(reverse("research:study", args=[rworld.study.pk]))
    assert response.status_code == 200


def test_inactive_accounts_see_nothing(rworld):
    rworld.lead.is_active = False
    rworld.lead.save()
    assert list(visible_studies(rworld.lead)) == []


def _urls(rw):
    s = rw.study.pk
    t = rw.transcripts[0].pk
    p = rw.participants[0].pk
    c = rw.codes["Funding"].pk
    return [
        f"/research/{s}/",
        f"/research/{s}/codebook/",
        f"/research/{s}/analysis/",
        f"/research/{s}/transcripts/{t}/",
        f"/research/{s}/participants/{p}/",
        f"/research/{s}/codes/{c}/",
        f"/research/{s}/codes.css",
        f"/research/{s}/export/segments.csv",
        f"/research/{s}/export/project.qdpx",
        f"/api/v1/research/transcripts/{t}/segments/",
        f"/api/v1/research/studies/{s}/codes/{c}/segments/",
    ]


def test_every_page_is_404_to_people_off_the_team_and_missing_alike(rworld):
    for user in (rworld.outsider, rworld.world.county_caseworker, rworld.world.county_analyst):
        client = verified_client(user)
        for url in _urls(rworld):
            assert client.get(url).status_code == 404, (user, url)
    client = verified_client(rworld.lead)
    assert client.get("/research/999999/").status_code == 404
    assert client.get(f"/research/{rworld.study.pk}/transcripts/999999/").status_code == 404


def test_anonymous_is_sent_to_log_in_and_the_api_answers_401(rworld):
    client = Client()
    for url in _urls(rworld):
        response = client.get(url)
        if url.startswith("/api/"):
            assert response.status_code == 401
        else:
            assert response.status_code == 302
            assert reverse("accounts:login") in response["Location"]


def test_team_members_reach_every_page(rworld):
    client = verified_client(rworld.viewer)
    for url in _urls(rworld):
        expected = 404 if "/export/" in url else 200
        assert client.get(url).status_code == expected, url
    lead = verified_client(rworld.lead)
    for url in _urls(rworld):
        assert lead.get(url).status_code == 200, url


def test_viewers_cannot_write_and_coders_cannot_manage(rworld):
    s = rworld.study.pk
    viewer = verified_client(rworld.viewer)
    assert viewer.get(f"/research/{s}/participants/new/").status_code == 404
    transcript = rworld.transcripts[0]
    response = viewer.post(
        f"/research/{s}/transcripts/{transcript.pk}/",
        {"start": 0, "end": 5, "codes": [rworld.codes["Funding"].pk]},
    )
    assert response.status_code == 404
    coder = verified_client(rworld.coder)
    assert coder.get(f"/research/{s}/participants/new/").status_code == 404
    assert coder.get(f"/research/{s}/transcripts/import/").status_code == 404
    with pytest.raises(PermissionDenied):
        services.participant_add(
            actor=rworld.coder,
            study=rworld.study,
            code="P99",
            professional_role="other",
            agency_type="other",
        )


def test_case_apps_do_not_import_research_and_research_imports_no_case_app():
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2]
    case_apps = ("youth", "screening", "contact", "referrals", "outcomes")
    for path in (root / "research").rglob("*.py"):
        text = path.read_text()
        for app in case_apps:
            assert f"safeharbor.{app}" not in text, (path, app)
    for app in case_apps:
        for path in (root / app).rglob("*.py") if (root / app).exists() else []:
            if path.name == "demo.py" or "management" in path.parts:
                continue  # seed_demo calls research.demo with one line, by design
            assert "safeharbor.research" not in path.read_text(), path
