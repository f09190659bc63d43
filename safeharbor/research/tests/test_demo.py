"""The demo study loads through the services and its analysis tells a story."""

from __future__ import annotations

from safeharbor.research import selectors
from safeharbor.research.demo import seed_research_demo
from safeharbor.research.models import Study


def test_demo_study_tells_a_story(world):
    summary = seed_research_demo(lead=world.university_researcher)
    assert (summary.participants, summary.transcripts) == (10, 10)
    study = Study.objects.get()
    page = selectors.analysis_page(actor=world.university_researcher, study_id=study.pk)
    assert len(page.data.participants) == 9  # P10 withdrew
    roles = {value for value, _label, _n in page.roles}
    assert roles == {"social_worker", "licensed_clinician", "law_enforcement", "community_advocate"}
    themes = {c.code.name: c for c in page.counts if c.depth == 0}
    assert set(themes) == {
        "Identification tools",
        "Known resources",
        "Confidentiality barriers",
        "Losing contact",
        "Gauging effectiveness",
        "Funding",
    }
    assert all(c.participants >= 3 for c in themes.values())
    assert page.agreement is not None
    assert len(page.agreement.coders) == 2
    assert page.saturation.enough_interviews
    assert page.saturation.reached_at is not None
    assert len(page.exemplars) >= 3
