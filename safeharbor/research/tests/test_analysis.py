"""Descriptive analysis: counts with descendants, matrix, co-occurrence, saturation, agreement;
withdrawn participants excluded everywhere."""

from __future__ import annotations

import csv
import io
import math
import zipfile

import pytest

from safeharbor.core.tests.personas import verified_client
from safeharbor.research import analysis, selectors, services
from safeharbor.research.analysis import CodeRow, CodingRow, ParticipantRow


def test_cohen_kappa_worked_example():
    """Wikipedia's worked example: 50 proposals, both yes 20, A yes B no 5, A no B yes 10,
    both no 15: p_o = 0.7, p_e = 0.5, kappa = 0.4."""
    a = [1] * 20 + [1] * 5 + [0] * 10 + [0] * 15
    b = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    assert analysis.percent_agreement(a, b) == pytest.approx(70.0)
    assert analysis.cohen_kappa(a, b) == pytest.approx(0.4)
    assert analysis.cohen_kappa([1, 1], [1, 1]) is None  # undefined, not a fake 1.0
    assert analysis.cohen_kappa([], []) is None


def test_krippendorff_alpha_matches_the_package_and_perfect_agreement():
    assert analysis.krippendorff_alpha([[1, 0, 1, 0], [1, 0, 1, 0]]) == pytest.approx(1.0)
    value = analysis.krippendorff_alpha([[1, 0, 1, 0, 1], [1, 0, 0, 0, 1]])
    assert value is not None
    assert -1 <= value < 1
    assert analysis.krippendorff_alpha([[1, 1], [1, 1]]) is None


CODES = [
    CodeRow(1, None, "Barriers", "theme", "#E69F00"),
    CodeRow(2, 1, "Confidentiality", "code", "#56B4E9"),
    CodeRow(3, 1, "Funding", "code", "#009E73"),
    CodeRow(4, None, "Tools", "theme", "#0072B2"),
]
PEOPLE = [ParticipantRow(10, "P01", "social_worker"), ParticipantRow(11, "P02", "law_enforcement")]


def test_counts_include_descendants_and_percent_of_participants():
    codings = [
        CodingRow(100, 2, 1, 10, 7, 0, 5),
        CodingRow(100, 3, 1, 10, 7, 0, 5),  # one segment, two child codes: the theme counts it once
        CodingRow(101, 3, 2, 11, 7, 0, 9),
    ]
    counts = {c.code.name: c for c in analysis.code_counts(CODES, codings, PEOPLE)}
    assert (counts["Barriers"].segments, counts["Barriers"].participants) == (2, 2)
    assert counts["Barriers"].percent == 100.0
    assert counts["Confidentiality"].percent == 50.0
    assert counts["Funding"].by_role == {"social_worker": 1, "law_enforcement": 1}
    assert counts["Tools"].segments == 0
    assert [c.depth for c in analysis.code_counts(CODES, codings, PEOPLE)] == [0, 1, 1, 0]
    cells = analysis.matrix(CODES, codings, PEOPLE)
    assert cells[(10, 1)] == 1
    assert cells[(11, 3)] == 1
    assert (11, 2) not in cells


def test_co_occurrence_counts_same_and_overlapping_segments():
    codings = [
        CodingRow(1, 2, 1, 10, 7, 0, 10),
        CodingRow(1, 3, 1, 10, 7, 0, 10),
        CodingRow(2, 4, 1, 10, 8, 5, 15),  # overlaps segment 1
        CodingRow(3, 4, 1, 10, 8, 20, 25),  # overlaps nothing
    ]
    pairs = analysis.co_occurrence(codings)
    assert pairs == {(2, 3): 1, (2, 4): 1, (3, 4): 1}


def test_saturation_guest_namey_chen():
    interviews = [
        ("P1", {1, 2, 3}),
        ("P2", {2, 4, 5}),
        ("P3", {6, 7}),
        ("P4", {1, 8, 9, 10}),
        ("P5", {11}),
        ("P6", {1, 2}),
        ("P7", {3}),
        ("P8", {2}),
    ]
    result = analysis.saturation(interviews, base_size=4, run_length=2, threshold_percent=5)
    assert result.base_codes == 10
    assert [s.new_codes for s in result.steps] == [3, 2, 2, 3, 1, 0, 0, 0]
    assert result.steps[5].run_ratio_percent == 10.0  # P5-P6 add 1 of 10
    assert result.steps[6].run_ratio_percent == 0.0
    assert result.reached_at == 7
    not_enough = analysis.saturation(interviews[:5], base_size=4, run_length=2)
    assert not not_enough.enough_interviews
    assert not_enough.reached_at is None
    never = analysis.saturation(
        [(f"P{i}", {i}) for i in range(10)], base_size=4, run_length=2, threshold_percent=5
    )
    assert never.reached_at is None


def test_agreement_on_participant_by_code_presence():
    codings = [
        CodingRow(1, 2, 1, 10, 7, 0, 5),
        CodingRow(2, 2, 1, 10, 8, 0, 5),
        CodingRow(3, 3, 2, 11, 7, 0, 5),
        CodingRow(4, 4, 2, 11, 8, 0, 5),
    ]
    result = analysis.agreement(CODES, codings, PEOPLE)
    assert result is not None
    assert result.unit == "participant x code presence"
    assert result.coders == [7, 8]
    assert result.participants == ["P01", "P02"]
    # units: 4 codes x 2 participants; at P02 coder 7 has Funding (so Barriers), coder 8 Tools
    assert result.overall_percent == 62.5
    assert {(d.participant_code, d.code.name) for d in result.disagreements} == {
        ("P02", "Barriers"),
        ("P02", "Funding"),
        ("P02", "Tools"),
    }
    assert result.overall_kappa is not None
    assert not math.isnan(result.overall_kappa)
    assert analysis.agreement(CODES, codings[:1], PEOPLE) is None  # one coder


def _code_some(rworld):
    codes = rworld.codes
    for transcript in rworld.transcripts:
        services.segment_apply(
            actor=rworld.lead, transcript=transcript, start=0, end=12, codes=[codes["Funding"]]
        )
        services.segment_apply(
            actor=rworld.coder, transcript=transcript, start=0, end=12, codes=[codes["Funding"]]
        )
        services.segment_apply(
            actor=rworld.lead, transcript=transcript, start=50, end=80, codes=[codes["Tools"]]
        )
    segment = services.segment_apply(
        actor=rworld.lead,
        transcript=rworld.transcripts[0],
        start=100,
        end=140,
        codes=[codes["Confidentiality"]],
    )
    services.segment_set_exemplar(actor=rworld.lead, segment=segment, is_exemplar=True)


def test_analysis_page_tells_the_numbers(rworld):
    _code_some(rworld)
    page = selectors.analysis_page(actor=rworld.viewer, study_id=rworld.study.pk)
    counts = {c.code.name: c for c in page.counts}
    assert counts["Funding"].participants == 3
    assert counts["Funding"].segments == 6
    assert counts["Barriers"].participants == 3
    assert page.agreement is not None
    assert page.agreement.overall_percent is not None
    assert page.exemplars
    assert page.exemplars[0][0].name == "Barriers"
    response = verified_client(rworld.viewer).get(f"/research/{rworld.study.pk}/analysis/")
    body = response.content.decode()
    assert "heat-" in body
    assert "Saturation" in body
    assert "Cohen" in body


def test_withdrawn_participants_are_excluded_everywhere(rworld):
    _code_some(rworld)
    withdrawn = rworld.participants[0]
    services.participant_withdraw(actor=rworld.lead, participant=withdrawn)
    page = selectors.analysis_page(actor=rworld.lead, study_id=rworld.study.pk)
    assert withdrawn.code not in [p.code for p in page.data.participants]
    assert {c.code.name: c.participants for c in page.counts}["Funding"] == 2
    assert page.exemplars == []  # the only exemplar was theirs
    _s, _c, rows = selectors.code_segments(
        actor=rworld.lead, study_id=rworld.study.pk, code_id=rworld.codes["Funding"].pk
    )
    assert withdrawn.code not in {r.participant_code for r in rows}
    client = verified_client(rworld.lead)
    for name in ("segments.csv", "matrix.csv"):
        text = client.get(f"/research/{rworld.study.pk}/export/{name}").content.decode()
        rows_csv = list(csv.reader(io.StringIO(text)))
        assert all(withdrawn.code not in row[:2] for row in rows_csv), name
    qdpx = client.get(f"/research/{rworld.study.pk}/export/project.qdpx").content
    qde = zipfile.ZipFile(io.BytesIO(qdpx)).read("project.qde").decode()
    assert f'name="{withdrawn.code}"' not in qde
    docx_bytes = client.get(f"/research/{rworld.study.pk}/export/findings.docx").content
    assert withdrawn.code.encode() not in zipfile.ZipFile(io.BytesIO(docx_bytes)).read(
        "word/document.xml"
    )
    response = client.get(
        f"/research/{rworld.study.pk}/codes/{rworld.codes['Confidentiality'].pk}/"
    )
    assert "Confidentiality rules" not in response.content.decode()


def test_findings_docx_writes_methods_and_limitations_from_the_data(rworld):
    import docx

    _code_some(rworld)
    response = verified_client(rworld.lead).get(f"/research/{rworld.study.pk}/export/findings.docx")
    document = docx.Document(io.BytesIO(response.content))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "3 professionals" in text
    assert "purposive sampling, a non-probability method" in text
    assert "Coastal University IRB" in text
    assert "Fewer participants were interviewed (3) than the target of 10" in text
    assert "Saturation cannot be judged yet" in text
    themes = document.tables[0]
    assert [c.text for c in themes.rows[1].cells] == ["Barriers", "7", "3", "100%"]


def test_xlsx_exports_open(rworld):
    from openpyxl import load_workbook

    _code_some(rworld)
    client = verified_client(rworld.lead)
    book = load_workbook(
        io.BytesIO(client.get(f"/research/{rworld.study.pk}/export/matrix.xlsx").content)
    )
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][:3] == ("participant", "professional_role", "Barriers")
    assert len(rows) == 4


def test_csv_exports_neutralise_formulas(rworld):
    services.code_create(actor=rworld.lead, study=rworld.study, name="=HYPERLINK(1)")
    text = (
        verified_client(rworld.lead)
        .get(f"/research/{rworld.study.pk}/export/codebook.csv")
        .content.decode()
    )
    assert "'=HYPERLINK(1)" in text
