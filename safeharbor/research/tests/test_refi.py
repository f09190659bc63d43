"""REFI-QDA: strict export (valid against the XSDs), lenient import, hostile files, round trip."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from lxml import etree

from safeharbor.core.tests.personas import verified_client
from safeharbor.research import exports, refi, services
from safeharbor.research.models import Code, Memo, Segment

from .factories import enrol, make_study

REFI = settings.BASE_DIR.parent / "shared" / "data" / "refi-qda"


def _coded(rworld):
    codes = rworld.codes
    for t in rworld.transcripts:
        services.segment_apply(
            actor=rworld.lead,
            transcript=t,
            start=0,
            end=12,
            codes=[codes["Funding"], codes["Tools"]],
        )
        services.segment_apply(
            actor=rworld.coder,
            transcript=t,
            start=t.text.index("🙂"),
            end=t.char_count,
            codes=[codes["Confidentiality"]],
        )
    services.code_update(
        actor=rworld.lead, code=codes["Funding"], inclusion_criteria="Money talk", example="ran out"
    )
    # Memos on a code, a transcript and a segment (REFI-QDA notes with NoteRefs).
    study = rworld.study
    services.memo_add(
        actor=rworld.lead, study=study, body="Funding means money.", code=codes["Funding"]
    )
    services.memo_add(
        actor=rworld.coder,
        study=study,
        body="Long pause here.\nThen a laugh 🙂",
        transcript=rworld.transcripts[0],
    )
    segment = Segment.objects.filter(transcript=rworld.transcripts[1], coder=rworld.coder).get()
    services.memo_add(actor=rworld.coder, study=study, body="Strong example.", segment=segment)


def test_codebook_qdc_is_valid_against_the_xsd(rworld):
    body = (
        verified_client(rworld.lead).get(f"/research/{rworld.study.pk}/export/codebook.qdc").content
    )
    schema = refi.schema("Codebook.xsd")
    document = etree.fromstring(body)
    assert schema.validate(document), schema.error_log


def test_project_qdpx_is_strictly_valid(rworld):
    _coded(rworld)
    body = exports.project_qdpx(actor=rworld.lead, study_id=rworld.study.pk)
    archive = zipfile.ZipFile(io.BytesIO(body))
    qde = archive.read("project.qde")
    schema = refi.schema("Project.xsd")
    assert schema.validate(etree.fromstring(qde)), schema.error_log
    sources = [n for n in archive.namelist() if n.startswith("sources/")]
    assert len(sources) == 3
    for name in sources:
        raw = archive.read(name)
        assert not raw.startswith(b"\xef\xbb\xbf")
        assert b"\r" not in raw
    # offsets are code points: the emoji selection ends at the text's code-point length
    root = etree.fromstring(qde)
    ns = {"q": refi.PROJECT_NS}
    source = root.find(".//q:TextSource", ns)
    text = archive.read(f"sources/{source.get('guid')}.txt").decode()
    ends = [int(s.get("endPosition")) for s in source.findall("q:PlainTextSelection", ns)]
    assert max(ends) == len(text)


def _canonical(qdpx: bytes) -> tuple:
    """What makes two projects the same: codes (GUID, name, colour, description, parent),
    sources (GUID, name, text) and selections (source, range, codes)."""
    archive = zipfile.ZipFile(io.BytesIO(qdpx))
    root = etree.fromstring(archive.read("project.qde"))
    ns = {"q": refi.PROJECT_NS}
    codes = sorted(
        (
            c.get("guid"),
            c.get("name"),
            c.get("color"),
            c.findtext("q:Description", "", ns),
            c.getparent().get("guid"),
        )
        for c in root.iter(f"{{{refi.PROJECT_NS}}}Code")
    )
    sources = sorted(
        (
            s.get("guid"),
            s.get("name"),
            archive.read(f"sources/{s.get('guid')}.txt").decode(),
            tuple(
                sorted(
                    (
                        sel.get("startPosition"),
                        sel.get("endPosition"),
                        tuple(
                            sorted(
                                r.get("targetGUID")
                                for r in sel.iter(f"{{{refi.PROJECT_NS}}}CodeRef")
                            )
                        ),
                    )
                    for sel in s.findall("q:PlainTextSelection", ns)
                )
            ),
        )
        for s in root.iter(f"{{{refi.PROJECT_NS}}}TextSource")
    )
    return codes, sources, _notes(root)


def _notes(root) -> list:
    """Each note with its text, creation time and what refers to it (a code by GUID, a
    source by GUID, a selection by its source and range)."""
    q = f"{{{refi.PROJECT_NS}}}"
    targets: dict[str, list] = {}
    for element in root.iter(f"{q}NoteRef"):
        parent = element.getparent()
        tag = parent.tag.removeprefix(q)
        if tag == "PlainTextSelection":
            where = (tag, parent.getparent().get("guid"), parent.get("startPosition"))
            where += (parent.get("endPosition"),)
        else:
            where = (tag, parent.get("guid"))
        targets.setdefault(element.get("targetGUID"), []).append(where)
    return sorted(
        (
            note.findtext(f"{q}PlainTextContent"),
            note.get("creationDateTime"),
            tuple(targets.get(note.get("guid"), [])),
        )
        for note in root.iter(f"{q}Note")
    )


def test_round_trip_export_import_export_gives_the_same_project(rworld):
    _coded(rworld)
    first = exports.project_qdpx(actor=rworld.lead, study_id=rworld.study.pk)
    other_lead = rworld.outsider
    study = make_study(other_lead, title="Copy")
    for p in rworld.participants:
        enrol(study, other_lead, p.code, p.professional_role)
    project = refi.read_qdpx(first)
    result = services.project_import(actor=other_lead, study=study, project=project)
    assert (result.transcripts, result.segments, result.memos) == (3, 6, 3)
    assert result.dropped == []
    second = exports.project_qdpx(actor=other_lead, study_id=study.pk)
    assert _canonical(first) == _canonical(second)
    notes = _canonical(second)[2]
    assert [n[0] for n in notes] == [
        "Funding means money.",
        "Long pause here.\nThen a laugh 🙂",
        "Strong example.",
    ]
    assert {n[2][0][0] for n in notes} == {"Code", "TextSource", "PlainTextSelection"}
    funding = Code.objects.get(study=study, name="Funding")
    assert funding.inclusion_criteria == "Money talk"
    assert funding.example == "ran out"


def test_example_codebook_imports_leniently_with_a_warning(rworld):
    raw = (REFI / "examples" / "example_codebook.qdc").read_bytes()
    codes, report = refi.read_qdc(raw)
    assert len(codes) == 4
    assert sum(len(c.children) for c in codes) == 40
    assert any("GUID" in line for line in report.assumptions)
    created = services.codebook_import(actor=rworld.lead, study=rworld.study, codes=codes)
    assert len(created) == 44
    assert {c.level for c in created if c.parent is None} == {"theme"}


def test_codebook_csv_round_trip(rworld):
    client = verified_client(rworld.lead)
    body = client.get(f"/research/{rworld.study.pk}/export/codebook.csv").content
    codes, report = refi.read_codebook_csv(body)
    study = make_study(rworld.outsider, title="CSV copy")
    services.codebook_import(actor=rworld.outsider, study=study, codes=codes)
    assert sorted(study.codes.values_list("name", "level", "color")) == sorted(
        rworld.study.codes.values_list("name", "level", "color")
    )
    assert Code.objects.get(study=study, name="Funding").parent.name == "Barriers"


def _qdpx(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


_G = "11111111-1111-1111-1111-111111111111"
_S = "22222222-2222-2222-2222-222222222222"
QDE = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<Project xmlns="urn:QDA-XML:project:1.0" name="Vendor" origin="{origin}">'
    f'<CodeBook><Codes><Code guid="{_G}" name="Funding" isCodable="true" color="#E69F00"/>'
    "</Codes></CodeBook>"
    f'<Sources><TextSource guid="{_S}" name="P01 interview" plainTextPath="internal://{_S}.txt">'
    '<PlainTextSelection guid="33333333-3333-3333-3333-333333333333" '
    'startPosition="{start}" endPosition="{end}">'
    f'<Coding guid="44444444-4444-4444-4444-444444444444"><CodeRef targetGUID="{_G}"/></Coding>'
    "</PlainTextSelection></TextSource>"
    '<PDFSource guid="55555555-5555-5555-5555-555555555555" name="scan.pdf"/></Sources></Project>'
)


def test_nvivo_utf16_offsets_crlf_and_folder_case_are_detected():
    text = "Hi 🙂 there.\r\nFunding ran out."
    # NVivo: UTF-16 code units over the CRLF text; "Funding" starts after 🙂 (2 units) and CRLF
    start16 = len(text[: text.index("Funding")].encode("utf-16-le")) // 2
    end16 = start16 + len("Funding ran out.")
    qde = QDE.format(origin="NVivo 14", start=start16, end=end16).encode()
    project = refi.read_qdpx(
        _qdpx(
            {"project.qde": qde, "Sources/22222222-2222-2222-2222-222222222222.txt": text.encode()}
        )
    )
    source = project.sources[0]
    assert source.text == "Hi 🙂 there.\nFunding ran out."
    selection = source.selections[0]
    assert source.text[selection.start : selection.end] == "Funding ran out."
    joined = " ".join(project.report.assumptions)
    assert "UTF-16" in joined
    assert "CRLF" in joined
    assert "Sources" in joined
    assert any("PDFSource" in d for d in project.report.dropped)


def test_atlas_ti_inner_file_name_is_accepted():
    qde = QDE.format(origin="ATLAS.ti", start=0, end=2).encode()
    project = refi.read_qdpx(
        _qdpx({"My Study.qde": qde, "sources/22222222-2222-2222-2222-222222222222.txt": b"Hello"})
    )
    assert any("ATLAS.ti" in a for a in project.report.assumptions)
    assert project.sources[0].selections[0].end == 2


_N = "66666666-6666-6666-6666-66666666666{n}"
_U = "77777777-7777-7777-7777-777777777777"
NOTES_QDE = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<Project xmlns="urn:QDA-XML:project:1.0" name="Vendor" origin="MAXQDA">'
    f'<Users><User guid="{_U}" name="{{author}}"/></Users>'
    f'<CodeBook><Codes><Code guid="{_G}" name="Funding" isCodable="true" color="#E69F00">'
    f'<NoteRef targetGUID="{_N.format(n=1)}"/></Code></Codes></CodeBook>'
    f'<Sources><TextSource guid="{_S}" name="P01 interview">'
    "<PlainTextContent>Funding ran out. We lost contact.</PlainTextContent>"
    '<PlainTextSelection guid="33333333-3333-3333-3333-333333333333" '
    'startPosition="0" endPosition="16">'
    f'<Coding guid="44444444-4444-4444-4444-444444444444"><CodeRef targetGUID="{_G}"/>'
    f'<NoteRef targetGUID="{_N.format(n=2)}"/></Coding></PlainTextSelection>'
    '<PlainTextSelection guid="33333333-3333-3333-3333-333333333334" '
    'startPosition="17" endPosition="33">'
    f'<NoteRef targetGUID="{_N.format(n=3)}"/></PlainTextSelection>'
    f'<NoteRef targetGUID="{_N.format(n=4)}"/>'
    f'<NoteRef targetGUID="{_N.format(n=9)}"/></TextSource></Sources>'
    "<Notes>"
    f'<Note guid="{_N.format(n=1)}" name="On the code" creatingUser="{_U}" '
    'creationDateTime="2025-05-01T10:00:00Z" modifiedDateTime="2025-05-02T11:00:00Z">'
    "<PlainTextContent>Money, budgets and grants.</PlainTextContent></Note>"
    f'<Note guid="{_N.format(n=2)}" name="On the coding" creationDateTime="2025-05-03T09:30:00">'
    "<PlainTextContent>A clear case.\r\nKeep it.</PlainTextContent></Note>"
    f'<Note guid="{_N.format(n=3)}" name="Uncoded"><PlainTextContent>Contact lost'
    "</PlainTextContent></Note>"
    f'<Note guid="{_N.format(n=4)}" name="On the source" creatingUser="{_U}">'
    "<PlainTextContent>Noisy call.</PlainTextContent></Note>"
    f'<Note guid="{_N.format(n=5)}" name="Empty"><PlainTextContent/></Note>'
    "</Notes>"
    f'<NoteRef targetGUID="{_N.format(n=1)}"/>'
    "</Project>"
)


def test_notes_come_in_as_memos_with_their_dates_and_authors(rworld):
    study = make_study(rworld.lead, title="Imported")
    enrol(study, rworld.lead, "P01")
    services.member_add(actor=rworld.lead, study=study, user=rworld.coder, role="coder")
    project = refi.read_qdpx(_qdpx({"project.qde": NOTES_QDE.format(author="coder").encode()}))
    result = services.project_import(actor=rworld.lead, study=study, project=project)
    assert result.memos == 4
    memos = {m.body: m for m in Memo.objects.filter(study=study)}
    on_code = memos["Money, budgets and grants."]
    assert on_code.code.name == "Funding"
    assert on_code.author == rworld.coder  # the note's user is on the team
    assert on_code.created_at.isoformat() == "2025-05-01T10:00:00+00:00"
    assert on_code.updated_at.isoformat() == "2025-05-02T11:00:00+00:00"
    on_coding = memos["A clear case.\nKeep it."]
    assert on_coding.segment.quote == "Funding ran out."
    assert on_coding.author == rworld.lead  # no creating user: the importer
    assert on_coding.created_at.isoformat() == "2025-05-03T09:30:00+00:00"  # no zone: UTC
    assert memos["Contact lost"].transcript.name == "P01 interview"  # its selection had no code
    assert memos["Noisy call."].transcript.name == "P01 interview"
    report = " ".join(result.assumptions + result.dropped)
    assert "attached to their whole transcript" in report
    assert "Memos by people who are not on the study team were attributed to you" in report
    assert "1 references to notes that are not in the project" in report
    assert "Note Empty has no text" in report
    assert "Notes about the project as a whole were left out" in report
    # The same project again: the code's memo is not added twice (the source is a duplicate).
    again = services.project_import(actor=rworld.lead, study=study, project=project)
    assert again.memos == 0
    assert Memo.objects.filter(study=study).count() == 4


def test_withdrawn_participants_memos_stay_out_of_the_project(rworld):
    _coded(rworld)
    services.participant_withdraw(actor=rworld.lead, participant=rworld.transcripts[0].participant)
    body = exports.project_qdpx(actor=rworld.lead, study_id=rworld.study.pk)
    qde = zipfile.ZipFile(io.BytesIO(body)).read("project.qde")
    assert refi.schema("Project.xsd").validate(etree.fromstring(qde))
    assert b"Long pause here." not in qde  # on the withdrawn participant's transcript
    assert b"Strong example." in qde
    assert b"Funding means money." in qde


def test_memo_text_that_xml_cannot_hold_is_cleaned(rworld):
    services.memo_add(
        actor=rworld.lead,
        study=rworld.study,
        body="Bell\x07 and\r\nform feed\x0c here",
        code=rworld.codes["Tools"],
    )
    qde = zipfile.ZipFile(
        io.BytesIO(exports.project_qdpx(actor=rworld.lead, study_id=rworld.study.pk))
    ).read("project.qde")
    assert refi.schema("Project.xsd").validate(etree.fromstring(qde))
    assert "Bell and\nform feed here" in qde.decode()


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"../../etc/passwd": b"x", "project.qde": b"<Project/>"}, "outside"),
        ({"/abs/path.txt": b"x", "project.qde": b"<Project/>"}, "outside"),
        ({"project.qde": b"<Project><unclosed></Project>"}, "well-formed"),
        (
            {
                "project.qde": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'
                b"<Project>&a;</Project>"
            },
            "entities",
        ),
        ({"project.qde": b"<CodeBook/>"}, "root element"),
        ({"readme.txt": b"nothing"}, "project.qde"),
        ({"project.qde": b"\0" * (30 * 1024 * 1024)}, "zip bomb"),
    ],
)
def test_hostile_projects_are_refused(files, message):
    with pytest.raises(refi.ExchangeError, match=message):
        refi.read_qdpx(_qdpx(files))


def test_not_a_zip_and_billion_laughs_codebook_are_refused():
    with pytest.raises(refi.ExchangeError, match="zip"):
        refi.read_qdpx(b"plain text")
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY l "lol"><!ENTITY l2 "&l;&l;&l;">]>'
        b"<CodeBook>&l2;</CodeBook>"
    )
    with pytest.raises(refi.ExchangeError, match="entities"):
        refi.read_qdc(laughs)


def test_an_import_that_fails_changes_nothing(rworld):
    before = (Code.objects.count(), Segment.objects.count())
    response = verified_client(rworld.lead).post(
        f"/research/{rworld.study.pk}/import/",
        {"file": io.BytesIO(_qdpx({"../evil": b"x"}))},
    )
    assert response.status_code == 200
    assert "outside" in response.content.decode()
    assert (Code.objects.count(), Segment.objects.count()) == before


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_fuzz_qdc_reader_only_refuses_cleanly(data):
    try:
        refi.read_qdc(data)
    except refi.ExchangeError:
        pass


_xml_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=_xml_text,
    start=st.integers(-5, 60),
    end=st.integers(-5, 60),
    text=st.text(max_size=50),
    origin=st.sampled_from(["NVivo", "MAXQDA", "QualCoder", ""]),
    folder=st.sampled_from(["sources", "Sources", "SOURCES"]),
)
def test_fuzz_qdpx_reader_only_refuses_cleanly(name, start, end, text, origin, folder):
    from xml.sax.saxutils import quoteattr

    qde = (
        QDE.format(origin=origin, start=start, end=end)
        .replace('name="P01 interview"', f"name={quoteattr(name)}")
        .encode("utf-8", "surrogatepass")
    )
    archive = _qdpx(
        {
            "project.qde": qde,
            f"{folder}/22222222-2222-2222-2222-222222222222.txt": text.encode(
                "utf-8", "surrogatepass"
            ),
        }
    )
    try:
        project = refi.read_qdpx(archive)
    except refi.ExchangeError:
        return
    for source in project.sources:
        for selection in source.selections:
            assert 0 <= selection.start < selection.end <= len(source.text)


@hsettings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_fuzz_transcript_reader_only_refuses_cleanly(data):
    from safeharbor.research.transcripts import TranscriptFileError, parse_file

    for name in ("a.txt", "a.docx", "a.vtt", "a.srt"):
        try:
            parsed = parse_file(name, data)
        except TranscriptFileError:
            continue
        assert parsed.text
        assert "\r" not in parsed.text
