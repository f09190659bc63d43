"""The study services, including bad input that saves nothing."""

from __future__ import annotations

import datetime
import io
import zipfile

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction

from safeharbor.audit.models import AuditEvent
from safeharbor.research import services
from safeharbor.research.choices import DocumentKind, ParticipantStatus
from safeharbor.research.models import (
    Code,
    CodingAction,
    Consent,
    Interview,
    Participant,
    Segment,
    SegmentCode,
    Transcript,
)

from .factories import DAY, TRANSCRIPT, enrol, make_study


def test_study_create_makes_the_lead_and_version_1_texts(world):
    study = make_study(world.university_researcher)
    assert study.members.get().role == "lead"
    assert study.documents.filter(kind=DocumentKind.CONSENT_FORM, version=1).exists()
    assert study.is_non_probability
    assert study.interview_guide == ["How do you identify youth?", "What gets in the way?"]
    assert AuditEvent.objects.filter(object_type="research.study", action="create").exists()


def test_study_create_refuses_bad_input_and_saves_nothing(world):
    for bad in (
        {"target_sample_size": 0},
        {"consent_form_text": " "},
        {"sampling_method": "random"},
    ):
        with pytest.raises(ValidationError):
            make_study(world.university_researcher, **bad)
    assert not world.university_researcher.study_memberships.exists()


def test_document_versions_count_up(rworld):
    doc = services.document_add_version(
        actor=rworld.lead, study=rworld.study, kind=DocumentKind.CONSENT_FORM, text="v2 text"
    )
    assert doc.version == 2
    assert rworld.study.documents.filter(kind=DocumentKind.CONSENT_FORM).count() == 2


def test_status_is_derived_from_the_records(rworld):
    lead, study = rworld.lead, rworld.study
    p = services.participant_add(
        actor=lead,
        study=study,
        code="P10",
        professional_role="community_advocate",
        agency_type="advocacy",
    )
    assert p.status == ParticipantStatus.INVITED
    services.consent_record(
        actor=lead,
        participant=p,
        form=study.documents.get(kind="consent_form"),
        consented_on=DAY,
        method="verbal",
        permission_to_record=False,
    )
    p = Participant.objects.get(pk=p.pk)
    assert p.status == ParticipantStatus.CONSENTED
    services.interview_record(
        actor=lead,
        participant=p,
        interviewed_on=DAY,
        mode="phone",
        duration_minutes=30,
        interviewer=lead,
    )
    assert Participant.objects.get(pk=p.pk).status == ParticipantStatus.INTERVIEWED
    assert rworld.participants[0].status == ParticipantStatus.DEBRIEFED


def test_no_interview_before_consent_in_the_service(rworld):
    p = services.participant_add(
        actor=rworld.lead,
        study=rworld.study,
        code="P11",
        professional_role="other",
        agency_type="other",
    )
    with pytest.raises(ValidationError, match="consent"):
        services.interview_record(
            actor=rworld.lead,
            participant=p,
            interviewed_on=DAY,
            mode="video",
            duration_minutes=20,
            interviewer=rworld.lead,
        )
    with pytest.raises(ValidationError, match="consent"):
        services.debrief_record(
            actor=rworld.lead,
            participant=p,
            statement=rworld.study.documents.get(kind="debrief_statement"),
            debriefed_on=DAY,
        )
    with pytest.raises(ValidationError):
        services.transcripts_import(
            actor=rworld.lead,
            study=rworld.study,
            uploads=[services.Upload("P11 interview.txt", b"hello")],
        )
    assert not Interview.objects.filter(consent__participant=p).exists()
    assert not Transcript.objects.filter(participant=p).exists()


def test_no_interview_without_consent_in_the_database(rworld):
    """The interview hangs off the consent: the database refuses one without it."""
    with pytest.raises(IntegrityError), transaction.atomic():
        Interview.objects.create(
            consent_id=None,
            interviewed_on=DAY,
            mode="video",
            duration_minutes=10,
            interviewer=rworld.lead,
        )
    with pytest.raises(IntegrityError), transaction.atomic():  # noqa: PT012  (FKs are deferred)
        Interview.objects.create(
            consent_id=999999,
            interviewed_on=DAY,
            mode="video",
            duration_minutes=10,
            interviewer=rworld.lead,
        )
        connection.check_constraints(table_names=["research_interview"])  # FKs are deferred


def test_interview_rules(rworld):
    lead = rworld.lead
    p = services.participant_add(
        actor=lead, study=rworld.study, code="P12", professional_role="other", agency_type="other"
    )
    services.consent_record(
        actor=lead,
        participant=p,
        form=rworld.study.documents.get(kind="consent_form"),
        consented_on=DAY,
        method="written",
        permission_to_record=True,
    )
    p = Participant.objects.get(pk=p.pk)
    for bad in (
        {"interviewed_on": DAY - datetime.timedelta(days=1)},  # before consent
        {"interviewer": rworld.outsider},  # not on the team
        {"duration_minutes": 0},
    ):
        args = {"interviewed_on": DAY, "mode": "video", "duration_minutes": 30, "interviewer": lead}
        args.update(bad)
        with pytest.raises(ValidationError):
            services.interview_record(actor=lead, participant=p, **args)
    assert not Interview.objects.filter(consent__participant=p).exists()
    with pytest.raises(ValidationError):  # consent twice
        services.consent_record(
            actor=lead,
            participant=p,
            form=rworld.study.documents.get(kind="consent_form"),
            consented_on=DAY,
            method="written",
            permission_to_record=True,
        )
    assert Consent.objects.filter(participant=p).count() == 1


def test_attributes_are_typed(rworld):
    lead, study = rworld.lead, rworld.study
    years = services.attribute_define(actor=lead, study=study, name="Caseload", value_type="number")
    rural = services.attribute_define(actor=lead, study=study, name="Rural", value_type="yes_no")
    trained = services.attribute_define(
        actor=lead, study=study, name="Trained on", value_type="date"
    )
    p = services.participant_add(
        actor=lead,
        study=study,
        code="P13",
        professional_role="other",
        agency_type="other",
        attributes={years: "12", rural: "Yes", trained: "2024-05-01"},
    )
    assert {v.attribute.name: v.value for v in p.attribute_values.all()} == {
        "Caseload": "12",
        "Rural": "yes",
        "Trained on": "2024-05-01",
    }
    for attribute, value in ((years, "many"), (rural, "maybe"), (trained, "May")):
        with pytest.raises(ValidationError):
            services.participant_set_attribute(
                actor=lead, participant=p, attribute=attribute, value=value
            )


def _docx(paragraphs: list[str]) -> bytes:
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


VTT = b"""WEBVTT

1
00:00:01.000 --> 00:00:04.000
<v Robin Achebe>How do you identify youth?</v>

2
00:01:05.500 --> 00:01:09.000
<v P04>We use a tool.</v>

3
00:01:09.000 --> 00:01:12.000
<v P04>It helps.</v>
"""

SRT = b"""1
00:00:01,000 --> 00:00:03,000
Interviewer: What gets in the way?

2
00:02:00,000 --> 00:02:04,000
P05: Funding, mostly.
"""


def test_import_txt_docx_vtt_srt_with_speakers_and_times(rworld):
    lead, study = rworld.lead, rworld.study
    for code in ("P04", "P05", "P06"):
        enrol(study, lead, code)
    created = services.transcripts_import(
        actor=lead,
        study=study,
        uploads=[
            services.Upload("P04-zoom.vtt", VTT),
            services.Upload("P05_teams.srt", SRT),
            services.Upload("P06.docx", _docx(["Interviewer: Hello.", "", "Participant: Hi."])),
        ],
    )
    texts = {t.name: t.text for t in created}
    assert texts["P04-zoom"] == (
        "[00:00:01] Robin Achebe: How do you identify youth?\n"
        "[00:01:05] P04: We use a tool. It helps."
    )
    assert texts["P05_teams"] == (
        "[00:00:01] Interviewer: What gets in the way?\n[00:02:00] P05: Funding, mostly."
    )
    assert texts["P06"] == "Interviewer: Hello.\nParticipant: Hi."
    assert {t.source_format for t in created} == {"vtt", "srt", "docx"}
    assert all(t.char_count == len(t.text) for t in created)


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<w/>" + b"\0" * (60 * 1024 * 1024))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("P01b.docx", b"this is plain text pretending", "not a Word"),
        ("P01b.docx", _zip_bomb(), "zip bomb"),
        ("P01b.txt", b"x" * (5 * 1024 * 1024 + 1), "larger than 5 MB"),
        ("P01b.txt", b"\xff\xfe\xfa not utf", "UTF"),
        ("P01b.pdf", b"%PDF-1.4", "only .txt"),
        ("P01b.vtt", b"not a caption file", "WebVTT"),
        ("P01b.srt", b"1\nnonsense --> more\n", "SRT"),
        ("P01b.txt", b"   \n\n", "no text"),
    ],
)
def test_hostile_files_are_refused_with_a_clear_message_and_nothing_saved(
    rworld, filename, content, message
):
    before = Transcript.objects.count()
    with pytest.raises(ValidationError) as caught:
        services.transcripts_import(
            actor=rworld.lead,
            study=rworld.study,
            uploads=[
                services.Upload("P02-second.txt", b"A good file"),
                services.Upload(filename, content),
            ],
        )
    assert message in " ".join(caught.value.messages)
    assert Transcript.objects.count() == before  # all or nothing


def test_import_refuses_unknown_participants_duplicates_and_coders(rworld):
    with pytest.raises(ValidationError, match="no participant"):
        services.transcripts_import(
            actor=rworld.lead, study=rworld.study, uploads=[services.Upload("X99.txt", b"hi")]
        )
    with pytest.raises(ValidationError, match="already"):
        services.transcripts_import(
            actor=rworld.lead, study=rworld.study, uploads=[services.Upload("P01.txt", b"hi")]
        )
    with pytest.raises(PermissionDenied):
        services.transcripts_import(
            actor=rworld.coder, study=rworld.study, uploads=[services.Upload("P01-b.txt", b"hi")]
        )


def test_transcripts_are_encrypted_at_rest(rworld):
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM research_transcript")
        stored = [row[0] for row in cursor.fetchall()]
    assert stored
    assert all(value.startswith("v1.") for value in stored)
    assert not any("Confidentiality" in value for value in stored)


def test_apply_remove_and_undo(rworld):
    t = rworld.transcripts[0]
    funding, conf = rworld.codes["Funding"], rworld.codes["Confidentiality"]
    segment = services.segment_apply(
        actor=rworld.coder, transcript=t, start=5, end=30, codes=[funding]
    )
    again = services.segment_apply(
        actor=rworld.coder, transcript=t, start=5, end=30, codes=[funding, conf]
    )
    assert again.pk == segment.pk
    assert set(segment.codes.values_list("name", flat=True)) == {"Funding", "Confidentiality"}
    services.segment_remove_code(actor=rworld.coder, segment=segment, code=funding)
    assert list(segment.codes.values_list("name", flat=True)) == ["Confidentiality"]
    # undo the removal, then the second apply, then the first
    services.coding_undo(actor=rworld.coder, study=rworld.study)
    assert set(segment.codes.values_list("name", flat=True)) == {"Funding", "Confidentiality"}
    services.coding_undo(actor=rworld.coder, study=rworld.study)
    assert list(segment.codes.values_list("name", flat=True)) == ["Funding"]
    services.coding_undo(actor=rworld.coder, study=rworld.study)
    assert not Segment.objects.filter(pk=segment.pk).exists()
    assert services.coding_undo(actor=rworld.coder, study=rworld.study) is None
    assert CodingAction.objects.filter(undone_at__isnull=False).count() == 3


def test_apply_refuses_bad_ranges_foreign_codes_and_outsiders(rworld, world):
    t = rworld.transcripts[0]
    funding = rworld.codes["Funding"]
    other_study = make_study(rworld.outsider, title="Another")
    foreign = services.code_create(actor=rworld.outsider, study=other_study, name="Elsewhere")
    for start, end in ((-1, 5), (5, 5), (10, 4), (0, t.char_count + 1)):
        with pytest.raises(ValidationError):
            services.segment_apply(
                actor=rworld.lead, transcript=t, start=start, end=end, codes=[funding]
            )
    with pytest.raises(ValidationError):
        services.segment_apply(actor=rworld.lead, transcript=t, start=0, end=5, codes=[foreign])
    with pytest.raises(ValidationError):
        services.segment_apply(actor=rworld.lead, transcript=t, start=0, end=5, codes=[])
    for user in (rworld.viewer, rworld.outsider):
        with pytest.raises(PermissionDenied):
            services.segment_apply(actor=user, transcript=t, start=0, end=5, codes=[funding])
    assert not Segment.objects.exists()
    segment = services.segment_apply(
        actor=rworld.lead, transcript=t, start=0, end=5, codes=[funding]
    )
    with pytest.raises(PermissionDenied):  # a coder changes only their own coding
        services.segment_remove_code(actor=rworld.coder, segment=segment, code=funding)


def test_offsets_are_code_points(rworld):
    t = Transcript.objects.get(pk=rworld.transcripts[0].pk)
    smile = t.text.index("🙂")
    segment = services.segment_apply(
        actor=rworld.lead, transcript=t, start=smile, end=smile + 1, codes=[rworld.codes["Funding"]]
    )
    assert t.text[segment.start : segment.end] == "🙂"
    assert t.char_count == len(TRANSCRIPT)


def test_codebook_hierarchy_move_merge_split(rworld):
    lead, study = rworld.lead, rworld.study
    barriers, tools = rworld.codes["Barriers"], rworld.codes["Tools"]
    category = services.code_create(
        actor=lead, study=study, name="Systems", level="category", parent=barriers
    )
    with pytest.raises(ValidationError):  # a theme never sits under anything
        services.code_create(actor=lead, study=study, name="T", level="theme", parent=barriers)
    with pytest.raises(ValidationError):  # a category cannot hold a theme or another category
        services.code_create(actor=lead, study=study, name="C", level="category", parent=category)
    with pytest.raises(ValidationError):
        services.code_create(actor=lead, study=study, name="Funding", level="code", parent=barriers)
    with pytest.raises(ValidationError):
        services.code_create(actor=lead, study=study, name="Bad", color="#12345G")
    funding = rworld.codes["Funding"]
    services.code_move(actor=lead, code=funding, parent=category)
    assert Code.objects.get(pk=funding.pk).parent == category
    with pytest.raises(ValidationError):  # not under its own descendant
        services.code_move(actor=lead, code=barriers, parent=category)
    t = rworld.transcripts[0]
    conf = rworld.codes["Confidentiality"]
    s1 = services.segment_apply(actor=lead, transcript=t, start=0, end=10, codes=[funding, conf])
    s2 = services.segment_apply(actor=lead, transcript=t, start=20, end=30, codes=[conf])
    services.code_merge(actor=lead, source=conf, target=funding)
    assert not Code.objects.filter(pk=conf.pk).exists()
    assert SegmentCode.objects.filter(code=funding).count() == 2  # s1 not counted twice
    new = services.code_split(actor=lead, code=funding, new_name="Grant cuts", segment_ids=[s2.pk])
    assert list(new.segments.all()) == [s2]
    assert list(funding.segments.all()) == [s1]
    with pytest.raises(ValidationError):
        services.code_split(actor=lead, code=funding, new_name="X", segment_ids=[s2.pk])
    with pytest.raises(ValidationError):
        services.code_merge(actor=lead, source=tools, target=tools)
    with pytest.raises(PermissionDenied):
        services.code_create(actor=rworld.coder, study=study, name="Coder's own")


def test_withdrawal_and_optional_transcript_deletion(rworld):
    p1, p2 = rworld.participants[0], rworld.participants[1]
    t1 = rworld.transcripts[0]
    services.segment_apply(
        actor=rworld.lead, transcript=t1, start=0, end=5, codes=[rworld.codes["Funding"]]
    )
    services.participant_withdraw(actor=rworld.lead, participant=p1, note="asked to leave")
    assert Participant.objects.get(pk=p1.pk).status == ParticipantStatus.WITHDRAWN
    assert Transcript.objects.filter(pk=t1.pk).exists()  # kept unless deletion is chosen
    with pytest.raises(ValidationError):
        services.segment_apply(
            actor=rworld.lead, transcript=t1, start=0, end=5, codes=[rworld.codes["Funding"]]
        )
    with pytest.raises(ValidationError):
        services.participant_withdraw(actor=rworld.lead, participant=p1)
    services.participant_withdraw(actor=rworld.lead, participant=p2, delete_transcripts=True)
    assert not Transcript.objects.filter(participant=p2).exists()


def test_memos_have_one_target(rworld):
    t = rworld.transcripts[0]
    memo = services.memo_add(
        actor=rworld.coder, study=rworld.study, body="Strong theme", transcript=t
    )
    assert memo.author == rworld.coder
    with pytest.raises(ValidationError):
        services.memo_add(actor=rworld.coder, study=rworld.study, body="x")
    with pytest.raises(ValidationError):
        services.memo_add(
            actor=rworld.coder, study=rworld.study, body=" ", code=rworld.codes["Funding"]
        )
    with pytest.raises(PermissionDenied):
        services.memo_add(actor=rworld.viewer, study=rworld.study, body="x", transcript=t)


def test_team_keeps_a_lead(rworld):
    lead_member = rworld.study.members.get(user=rworld.lead)
    with pytest.raises(ValidationError):
        services.member_remove(actor=rworld.lead, member=lead_member)


def test_quotes_come_from_at_most_two_chunks_never_the_whole_transcript(rworld, monkeypatch):
    from safeharbor.core import crypto
    from safeharbor.research.models import TranscriptChunk

    long_text = "".join(f"Line {i}: the worker said 🙂 something true.\n" for i in range(400))
    p = enrol(rworld.study, rworld.lead, "P20")
    [t] = services.transcripts_import(
        actor=rworld.lead,
        study=rworld.study,
        uploads=[services.Upload("P20.txt", long_text.encode())],
    )
    assert TranscriptChunk.objects.filter(transcript=t).count() == -(-t.char_count // 4000)
    assert (
        "".join(TranscriptChunk.objects.filter(transcript=t).values_list("text", flat=True))
        == t.text
    )
    decrypted = []
    real = crypto.Keyring.decrypt
    monkeypatch.setattr(
        crypto.Keyring, "decrypt", lambda self, *a: decrypted.append(a[1]) or real(self, *a)
    )
    start, end = 3990, 4020  # across the first chunk boundary
    segment = services.segment_apply(
        actor=rworld.lead, transcript=t, start=start, end=end, codes=[rworld.codes["Funding"]]
    )
    assert b"research_transcript.text" not in decrypted
    assert decrypted.count(b"research_transcriptchunk.text") == 2
    monkeypatch.undo()
    assert Segment.objects.get(pk=segment.pk).quote == t.text[start:end]
    assert p.code == "P20"
    # inside one chunk, ending on a chunk's end, starting on one, longer than a chunk (read
    # from every chunk it covers), to the very end, and the same range again (no new segment)
    n = t.char_count
    for start, end in [(10, 50), (3990, 4000), (4000, 4010), (100, 9000), (n - 5, n), (10, 50)]:
        segment = services.segment_apply(
            actor=rworld.lead, transcript=t, start=start, end=end, codes=[rworld.codes["Tools"]]
        )
        assert Segment.objects.get(pk=segment.pk).quote == t.text[start:end], (start, end)
    assert Segment.objects.filter(transcript=t).count() == 6


def _tree(study):
    """(name, parent name, position) of every code, in codebook order per parent."""
    return [
        (c.name, c.parent.name if c.parent else None, c.position)
        for c in Code.objects.filter(study=study).select_related("parent").order_by("pk")
    ]


def test_move_numbers_siblings_logs_and_undoes_in_its_own_history(rworld):
    lead, study = rworld.lead, rworld.study
    barriers, tools = rworld.codes["Barriers"], rworld.codes["Tools"]
    conf, funding = rworld.codes["Confidentiality"], rworld.codes["Funding"]
    systems = services.code_create(
        actor=lead, study=study, name="Systems", level="category", parent=tools
    )
    before = _tree(study)
    # into a category of another theme (last), then to the front of its old siblings
    services.code_move(actor=lead, code=funding, parent=systems)
    assert Code.objects.get(pk=funding.pk).parent_id == systems.pk
    assert Code.objects.get(pk=conf.pk).position == 0  # the old siblings close the gap
    services.code_move(actor=lead, code=funding, parent=barriers, position=0)
    order = list(Code.objects.filter(parent=barriers).values_list("name", "position"))
    assert order == [("Funding", 0), ("Confidentiality", 1)]
    # a position past the end means last; dropping a code where it is logs nothing
    services.code_move(actor=lead, code=funding, parent=barriers, position=99)
    assert list(Code.objects.filter(parent=barriers).values_list("name", flat=True)) == [
        "Confidentiality",
        "Funding",
    ]
    moves = CodingAction.objects.filter(kind="move")
    assert moves.count() == 3
    services.code_move(actor=lead, code=funding, parent=barriers, position=1)
    assert moves.count() == 3
    assert (
        AuditEvent.objects.filter(object_type="research.code", reason__contains="moved").count()
        == 3
    )
    # a coding of the lead's is not undone by the codebook's undo, nor a move by the coding undo
    t = rworld.transcripts[0]
    services.segment_apply(actor=lead, transcript=t, start=0, end=5, codes=[conf])
    for _ in range(3):
        assert services.coding_undo(actor=lead, study=study, moves=True).kind == "move"
    assert services.coding_undo(actor=lead, study=study, moves=True) is None
    assert _tree(study) == before
    assert Segment.objects.filter(transcript=t).count() == 1
    assert services.coding_undo(actor=lead, study=study).kind == "apply"
    assert _tree(study) == before
    assert AuditEvent.objects.filter(reason__contains="undid move").count() == 3


def test_move_refuses_bad_moves_and_changes_nothing(rworld, world):
    lead, study = rworld.lead, rworld.study
    barriers, funding = rworld.codes["Barriers"], rworld.codes["Funding"]
    other = make_study(world.university_researcher, title="Another study")
    stranger = services.code_create(actor=lead, study=other, name="Elsewhere", level="category")
    systems = services.code_create(
        actor=lead, study=study, name="Systems", level="category", parent=barriers
    )
    before = _tree(study)
    for parent, code in [
        (stranger, funding),  # another study's code
        (funding, funding),  # itself
        (systems, barriers),  # its own descendant (and a theme never has a parent)
        (funding, systems),  # a category under a code
    ]:
        with pytest.raises(ValidationError):
            services.code_move(actor=lead, code=code, parent=parent)
    with pytest.raises(PermissionDenied):
        services.code_move(actor=rworld.coder, code=funding, parent=systems)
    with pytest.raises(PermissionDenied):  # a coder has no codebook moves to undo
        services.coding_undo(actor=rworld.coder, study=study, moves=True)
    assert _tree(study) == before
    assert not CodingAction.objects.filter(kind="move").exists()


def test_a_move_whose_way_back_is_gone_is_not_undone(rworld):
    lead, study = rworld.lead, rworld.study
    barriers, tools, funding = (
        rworld.codes["Barriers"],
        rworld.codes["Tools"],
        rworld.codes["Funding"],
    )
    services.code_move(actor=lead, code=funding, parent=tools)
    services.code_merge(actor=lead, source=barriers, target=tools)  # its old parent goes
    assert services.coding_undo(actor=lead, study=study, moves=True) is None
    services.code_move(actor=lead, code=funding, parent=None)
    services.code_merge(actor=lead, source=funding, target=rworld.codes["Confidentiality"])
    assert not CodingAction.objects.filter(kind="move").exists()  # not the target's to undo
