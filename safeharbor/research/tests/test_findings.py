"""The findings draft: one content builder, two files (.docx and PDF) that say the same
things, the participants × codes heat map in both, withdrawn participants out, lead only."""

from __future__ import annotations

import io

import docx
import pytest

from safeharbor.audit.models import AuditEvent
from safeharbor.core.tests.pdf import drawn_strings, page_count, pdf_text
from safeharbor.core.tests.personas import verified_client
from safeharbor.research import colours, findings, selectors, services
from safeharbor.research.findings import Heading, HeatMap, Table, Text


def _code(rworld):
    codes = rworld.codes
    for index, transcript in enumerate(rworld.transcripts):
        services.segment_apply(
            actor=rworld.lead, transcript=transcript, start=0, end=12, codes=[codes["Funding"]]
        )
        services.segment_apply(
            actor=rworld.coder, transcript=transcript, start=0, end=12, codes=[codes["Funding"]]
        )
        if index:
            services.segment_apply(
                actor=rworld.lead, transcript=transcript, start=50, end=80, codes=[codes["Tools"]]
            )
    for transcript in rworld.transcripts[:2]:
        segment = services.segment_apply(
            actor=rworld.lead,
            transcript=transcript,
            start=transcript.text.index("Confidentiality"),
            end=transcript.text.index(" stop us"),
            codes=[codes["Confidentiality"]],
        )
        services.segment_set_exemplar(actor=rworld.lead, segment=segment, is_exemplar=True)


def _report(rworld):
    page = selectors.analysis_page(actor=rworld.lead, study_id=rworld.study.pk)
    return findings.build(page)


def _export(rworld, name, who=None):
    return verified_client(who or rworld.lead).get(f"/research/{rworld.study.pk}/export/{name}")


def test_the_content_holds_every_section_and_the_heat_map(rworld):
    _code(rworld)
    report = _report(rworld)
    headings = [b.text for b in report.blocks if isinstance(b, Heading)]
    assert headings[0] == rworld.study.title
    for section in (
        "Research questions",
        "Methods",
        "Themes",
        "Participants × codes",
        "Exemplar quotes",
        "Saturation",
        "Intercoder agreement",
        "Limitations",
    ):
        assert section in headings
    [matrix] = [b for b in report.blocks if isinstance(b, HeatMap)]
    assert matrix.columns == ["P01", "P02", "P03"]
    rows = {row.label: row for row in matrix.rows}
    assert [r.label for r in matrix.rows] == [
        "Barriers",
        "Confidentiality",
        "Funding",
        "Identification tools",
    ]
    assert rows["Confidentiality"].depth == 1
    assert rows["Funding"].counts == [2, 2, 2]  # two coders, one segment each
    assert rows["Barriers"].counts == [3, 3, 2]  # the theme counts the codes under it
    assert rows["Identification tools"].counts == [0, 1, 1]
    assert rows["Barriers"].levels == [5, 5, 3]  # relative to the largest cell (3)
    assert rows["Identification tools"].fill(0) == "#FFFFFF"
    assert rows["Barriers"].fill(0) == colours.shade(rworld.codes["Barriers"].color, 5)
    assert "Largest cell: 3 segments" in matrix.description
    [themes] = [b for b in report.blocks if isinstance(b, Table)]
    assert themes.rows[0] == ("Barriers", "8", "3", "100%")


def test_the_docx_lays_out_the_blocks_with_a_shaded_heat_map(rworld):
    _code(rworld)
    report = _report(rworld)
    document = docx.Document(io.BytesIO(_export(rworld, "findings.docx").content))
    paragraphs = [p.text for p in document.paragraphs if p.text]
    expected = [b.text for b in report.blocks if isinstance(b, Heading | Text)]
    assert paragraphs == expected  # nothing more, nothing less, in the same order
    themes, matrix = document.tables
    assert [c.text for c in themes.rows[1].cells] == ["Barriers", "8", "3", "100%"]
    assert [c.text for c in matrix.rows[0].cells] == ["Code", "P01", "P02", "P03"]
    by_label = {row.cells[0].text: row for row in matrix.rows[1:]}
    assert [c.text for c in by_label["Funding"].cells[1:]] == ["2", "2", "2"]
    # Shaded in the code's colour, the number readable on it.
    cell = by_label["Barriers"].cells[1]
    fill = colours.shade(rworld.codes["Barriers"].color, 5)
    assert f'w:fill="{fill[1:]}"' in cell._tc.xml
    ink = colours.text_colour_for(fill)
    assert str(cell.paragraphs[0].runs[0].font.color.rgb) == ink[1:]
    assert 'w:fill="FFFFFF"' in by_label["Identification tools"].cells[1]._tc.xml


def test_the_pdf_says_the_same_with_the_heat_map_drawn(rworld):
    _code(rworld)
    response = _export(rworld, "findings.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].endswith(f'study-{rworld.study.pk}-findings.pdf"')
    body = response.content
    assert body.startswith(b"%PDF-")
    assert body.rstrip().endswith(b"%%EOF")
    assert page_count(body) >= 1
    assert f"/Title ({rworld.study.title})" in pdf_text(body)
    drawn = drawn_strings(body)
    report = _report(rworld)
    for block in report.blocks:
        if isinstance(block, Heading):
            assert block.text in drawn, block.text
    # The chart's labels and numbers are drawn as text (they can be found and read aloud).
    for label in ("P01", "P02", "P03", "Identification tools", "Confidentiality", "Code"):
        assert label in drawn, label
    assert drawn.count("3") >= 2  # the theme's largest cells
    words = " ".join(drawn)
    assert "Coastal University IRB" in words
    assert "“Confidentiality rules” (P01, Social worker)" in drawn
    assert "Fewer participants were interviewed (3) than the target of 10." in words
    assert AuditEvent.objects.filter(
        object_type="research.findings_pdf", action="export", actor=rworld.lead
    ).exists()


def test_withdrawn_participants_are_out_of_both_files(rworld):
    _code(rworld)
    services.participant_withdraw(actor=rworld.lead, participant=rworld.participants[0])
    report = _report(rworld)
    [matrix] = [b for b in report.blocks if isinstance(b, HeatMap)]
    assert matrix.columns == ["P02", "P03"]
    assert "P01" not in report.text()
    # P01's exemplar quote is gone; P02's stays.
    quotes = [b.text for b in report.blocks if isinstance(b, Text) and b.style == "quote"]
    assert len(quotes) == 1
    assert "(P02, " in quotes[0]
    assert "P01" not in pdf_text(_export(rworld, "findings.pdf").content)
    document = docx.Document(io.BytesIO(_export(rworld, "findings.docx").content))
    assert "P01" not in "\n".join(p.text for p in document.paragraphs)
    assert all("P01" not in c.text for t in document.tables for r in t.rows for c in r.cells)


def test_only_the_lead_may_export_the_findings(rworld):
    for name in ("findings.pdf", "findings.docx"):
        for who in (rworld.coder, rworld.viewer, rworld.outsider):
            assert _export(rworld, name, who).status_code == 404
    page = verified_client(rworld.lead).get(f"/research/{rworld.study.pk}/").content.decode()
    assert f"/research/{rworld.study.pk}/export/findings.pdf" in page
    coder_page = verified_client(rworld.coder).get(f"/research/{rworld.study.pk}/").content
    assert b"findings.pdf" not in coder_page


def test_an_uncoded_study_still_gives_both_files(rworld):
    report = _report(rworld)
    assert not [b for b in report.blocks if isinstance(b, HeatMap)]
    assert "Nothing is coded yet." in report.text()
    assert _export(rworld, "findings.pdf").content.startswith(b"%PDF-")
    assert _export(rworld, "findings.docx").status_code == 200


def test_a_wide_matrix_is_split_into_pieces():
    row = findings.HeatRow("Code", 0, "#0072B2", list(range(40)), [1] * 40)
    block = HeatMap("t", "d", "Code", [f"P{i:02}" for i in range(40)], [row])
    pieces = list(block.chunks(15))
    assert [len(p.columns) for p in pieces] == [15, 15, 10]
    assert pieces[2].rows[0].counts == list(range(30, 40))
    assert sum((p.columns for p in pieces), []) == block.columns


def test_a_large_study_fits_the_pdf_pages():
    """Drawings cannot break across pages: 70 codes by 40 participants become several charts
    instead of one that does not fit (ReportLab would refuse to lay it out)."""
    rows = [
        findings.HeatRow(
            f"Code number {i} with a long name", i % 3, "#009E73", [i % 7] * 40, [1] * 40
        )
        for i in range(70)
    ]
    participants = [f"Participant-{i:03}" for i in range(40)]
    block = HeatMap("Participants × codes", "d", "Code", participants, rows)
    body = findings.to_pdf(findings.Findings("Big", [Heading("Big", 0), block]))
    drawn = drawn_strings(body)
    assert page_count(body) >= 3
    assert drawn.count("Participant-039") == 3  # three pieces of rows for the last columns
    assert "Code number 69 with a long name" in drawn


@pytest.mark.parametrize(
    ("colour", "level", "expected"),
    [("#0072B2", 0, "#FFFFFF"), ("#0072B2", 5, "#0072B2"), ("#000000", 1, "#CCCCCC")],
)
def test_shades_mix_the_code_colour_with_white(colour, level, expected):
    assert colours.shade(colour, level) == expected
