"""Word frequencies (every transcript, or one code's segments) and the breakdown of each code's
participants by any participant attribute; withdrawn participants out of both."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from safeharbor.audit.models import AuditEvent
from safeharbor.core.tests.personas import verified_client
from safeharbor.research import analysis, selectors, services
from safeharbor.research.analysis import CodeRow, CodingRow, ParticipantRow

from .factories import DAY, enrol, make_study

# --------------------------------------------------------------------------- pure functions


def test_words_leave_out_labels_timestamps_placeholders_and_stop_words():
    text = (
        "[00:00:05] Interviewer: What gets in the way of funding?\n"
        "[00:00:09] P01: Funding, funding and the Funding [PERSON 1] promised.\n"
        "P01: La financiación no llega, y el refugio está lleno. Um, yeah, it's hard."
    )
    assert analysis.words_of(text, interviewer=analysis.INTERVIEWER_LABELS) == [
        "funding",
        "funding",
        "funding",
        "promised",
        "financiación",
        "llega",
        "refugio",
        "lleno",
        "hard",
    ]
    with_interviewer = analysis.words_of(text)
    assert with_interviewer[:2] == ["gets", "way"]
    assert "person" not in with_interviewer
    assert "p01" not in with_interviewer


def test_stitch_reads_overlapping_stretches_once():
    text = "abcdefghijklmnop"
    pieces = [(2, 6, text[2:6]), (4, 9, text[4:9]), (5, 7, text[5:7]), (12, 14, text[12:14])]
    assert analysis.stitch(pieces) == ["cdefghi", "mn"]
    assert analysis.stitch([(0, 3, "abc"), (3, 5, "de")]) == ["abcde"]


def test_word_frequency_counts_words_and_participants_with_ties_in_order():
    result = analysis.word_frequency(
        [(1, "Shelter beds. Shelter staff."), (2, "beds, beds and staff"), (1, "Court.")],
        top=3,
    )
    assert result.words == [
        analysis.WordCount("beds", 3, 2),
        analysis.WordCount("shelter", 2, 1),
        analysis.WordCount("staff", 2, 2),
    ]
    assert (result.total_words, result.distinct_words, result.participants) == (8, 4, 2)


CODES = [
    CodeRow(1, None, "Barriers", "theme", "#E69F00"),
    CodeRow(2, 1, "Confidentiality", "code", "#56B4E9"),
    CodeRow(3, None, "Tools", "theme", "#0072B2"),
]
PEOPLE = [ParticipantRow(10, "P01", "social_worker"), ParticipantRow(11, "P02", "other")]
PEOPLE += [ParticipantRow(12, "P03", "other")]


def test_breakdown_counts_participants_per_group_with_descendants():
    codings = [
        CodingRow(100, 2, 1, 10, 7, 0, 5),
        CodingRow(101, 2, 2, 11, 7, 0, 5),
        CodingRow(102, 1, 2, 11, 7, 6, 9),
        CodingRow(103, 3, 9, 99, 7, 0, 5),  # a participant not given (withdrawn): left out
    ]
    group_of = {10: "yes", 11: "no", 12: ""}
    result = analysis.breakdown(CODES, codings, PEOPLE, group_of, order=["yes", "no", ""])
    assert result.groups == [("yes", 1), ("no", 1), ("", 1)]
    assert result.cells[1] == {"yes": 1, "no": 1}  # the theme counts its code's participants
    assert result.cells[2] == {"yes": 1, "no": 1}
    assert result.cells[3] == {}


# --------------------------------------------------------------------------- selectors and pages


def _code(rw):
    lead, coder = rw.lead, rw.coder
    t0, t1, t2 = rw.transcripts
    text = t0.text
    # "Confidentiality rules stop us sharing, and funding ran out last year." by two coders
    start = text.index("Confidentiality rules")
    end = text.index("last year") + len("last year")
    services.segment_apply(
        actor=lead, transcript=t0, start=start, end=end, codes=[rw.codes["Confidentiality"]]
    )
    services.segment_apply(
        actor=coder, transcript=t0, start=start + 16, end=end, codes=[rw.codes["Funding"]]
    )
    services.segment_apply(
        actor=lead, transcript=t1, start=start, end=end, codes=[rw.codes["Funding"]]
    )
    services.segment_apply(
        actor=lead,
        transcript=t2,
        start=text.index("screening tool"),
        end=text.index("screening tool") + 14,
        codes=[rw.codes["Tools"]],
    )


def test_word_frequency_over_every_transcript_leaves_out_the_withdrawn(rworld):
    page = selectors.word_frequency_page(actor=rworld.viewer, study_id=rworld.study.pk)
    words = {w.word: w for w in page.result.words}
    assert words["confidentiality"].times == 3
    assert words["confidentiality"].participants == 3
    assert "identify" not in words  # the interviewer's question
    assert "participant" not in words  # a speaker label
    assert page.bars[0][1] == 100
    services.participant_withdraw(actor=rworld.lead, participant=rworld.participants[0])
    page = selectors.word_frequency_page(
        actor=rworld.viewer, study_id=rworld.study.pk, skip_interviewer=False
    )
    words = {w.word: w for w in page.result.words}
    assert words["confidentiality"].times == 2
    assert words["identify"].times == 2
    assert page.result.participants == 2


def test_word_frequency_of_a_code_reads_its_segments_and_its_codes_segments_once(rworld):
    _code(rworld)
    barriers = rworld.codes["Barriers"]
    page = selectors.word_frequency_page(
        actor=rworld.lead, study_id=rworld.study.pk, code_id=barriers.pk
    )
    words = {w.word: (w.times, w.participants) for w in page.result.words}
    # Two coders' overlapping segments on P01's transcript count once; P02 adds one more.
    assert words["confidentiality"] == (2, 2)
    assert words["funding"] == (2, 2)
    assert "screening" not in words
    funding = selectors.word_frequency_page(
        actor=rworld.lead, study_id=rworld.study.pk, code_id=rworld.codes["Funding"].pk
    )
    assert {w.word: w.times for w in funding.result.words}["sharing"] == 2
    services.participant_withdraw(actor=rworld.lead, participant=rworld.participants[1])
    page = selectors.word_frequency_page(
        actor=rworld.lead, study_id=rworld.study.pk, code_id=barriers.pk
    )
    assert {w.word: w.times for w in page.result.words}["confidentiality"] == 1


def test_the_word_frequency_page_draws_bars_and_is_audited(rworld):
    _code(rworld)
    client = verified_client(rworld.viewer)
    url = f"/research/{rworld.study.pk}/analysis/words/"
    body = client.get(url).content.decode()
    assert 'class="bar-list"' in body
    assert "<rect" in body
    assert ">confidentiality</th>" in body
    tools = rworld.codes["Tools"].pk
    body = client.get(url, {"code": tools, "top": 25, "interviewer": "on"}).content.decode()
    assert ">screening</th>" in body
    assert ">confidentiality</th>" not in body
    assert f'<option value="{tools}" selected>' in body
    assert client.get(url, {"code": 999999, "top": 25}).status_code == 200  # not a choice: all
    assert verified_client(rworld.outsider).get(url).status_code == 404
    assert AuditEvent.objects.filter(
        object_type="research.word_frequency", actor=rworld.viewer, action="view"
    ).exists()


def test_a_foreign_code_is_not_found(rworld):
    other = make_study(rworld.lead, title="Another study")
    foreign = services.code_create(actor=rworld.lead, study=other, name="Elsewhere")
    with pytest.raises(Http404):
        selectors.word_frequency_page(
            actor=rworld.lead, study_id=rworld.study.pk, code_id=foreign.pk
        )


def test_the_analysis_breaks_codes_down_by_any_attribute(rworld):
    _code(rworld)
    study, lead = rworld.study, rworld.lead
    trained = services.attribute_define(
        actor=lead, study=study, name="Trained in CSEC", value_type="yes_no"
    )
    p1, p2, p3 = rworld.participants
    services.participant_set_attribute(actor=lead, participant=p1, attribute=trained, value="Yes")
    services.participant_set_attribute(actor=lead, participant=p2, attribute=trained, value="no")
    page = selectors.analysis_page(actor=lead, study_id=study.pk, breakdown=f"attr-{trained.pk}")
    assert page.breakdown.label == "Trained in CSEC"
    assert page.breakdown.groups == [("Yes", 1), ("No", 1), ("Not recorded", 1)]
    rows = dict(zip([c.code.name for c in page.counts], page.breakdown.rows, strict=True))
    assert rows["Barriers"] == [(1, 100.0), (1, 100.0), (0, 0.0)]
    assert rows["Identification tools"] == [(0, 0.0), (0, 0.0), (1, 100.0)]
    by_role = selectors.analysis_page(actor=lead, study_id=study.pk, breakdown="nonsense")
    assert by_role.breakdown.key == "role"
    assert [label for label, _n in by_role.breakdown.groups] == [
        "Social worker",
        "Licensed clinician",
        "Law enforcement",
    ]
    years = selectors.analysis_page(actor=lead, study_id=study.pk, breakdown="years")
    assert years.breakdown.groups == [("5–9", 3)]
    agency = selectors.analysis_page(actor=lead, study_id=study.pk, breakdown="agency")
    assert agency.breakdown.groups == [("Child welfare", 3)]
    # Withdrawal takes the participant out of the columns too.
    services.participant_withdraw(actor=lead, participant=p1)
    page = selectors.analysis_page(actor=lead, study_id=study.pk, breakdown=f"attr-{trained.pk}")
    assert page.breakdown.groups == [("No", 1), ("Not recorded", 1)]
    rows = dict(zip([c.code.name for c in page.counts], page.breakdown.rows, strict=True))
    assert rows["Barriers"] == [(1, 100.0), (0, 0.0)]


def test_numeric_attributes_sort_as_numbers(rworld):
    study, lead = rworld.study, rworld.lead
    caseload = services.attribute_define(
        actor=lead, study=study, name="Caseload", value_type="number"
    )
    for participant, value in zip(rworld.participants, ["12", "9", "100"], strict=True):
        services.participant_set_attribute(
            actor=lead, participant=participant, attribute=caseload, value=value
        )
    page = selectors.analysis_page(actor=lead, study_id=study.pk, breakdown=f"attr-{caseload.pk}")
    assert [label for label, _n in page.breakdown.groups] == ["9", "12", "100"]


def test_the_analysis_page_offers_the_breakdown_and_the_word_view(rworld):
    _code(rworld)
    # A participant without a transcript is in no column (n counts those with transcripts).
    enrol(rworld.study, rworld.lead, "P09", interviewed_on=DAY + datetime.timedelta(days=5))
    client = verified_client(rworld.coder)
    url = f"/research/{rworld.study.pk}/analysis/"
    body = client.get(url).content.decode()
    assert '<select name="by" id="id_by">' in body
    assert "Social worker (n=1)" in body
    assert f"/research/{rworld.study.pk}/analysis/words/" in body
    body = client.get(url, {"by": "agency"}).content.decode()
    assert "Child welfare (n=3)" in body
    assert '<option value="agency" selected>' in body
    assert "1 (33.3%)" in body  # Identification tools: one of the three


def test_the_word_frequency_page_runs_a_fixed_number_of_queries(rworld):
    client = verified_client(rworld.lead)
    base = f"/research/{rworld.study.pk}/analysis/words/"
    urls = [base, f"{base}?code={rworld.codes['Barriers'].pk}&top=50&interviewer=on"]

    def count(url):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    client.get(urls[0])  # the session's expiry is pushed back at most once a minute: not counted
    few = {url: count(url) for url in urls}
    _code(rworld)
    services.code_create(
        actor=rworld.lead, study=rworld.study, name="More", parent=rworld.codes["Barriers"]
    )
    for url in urls:
        assert count(url) == few[url], url
