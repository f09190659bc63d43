"""The redaction helper: what it suggests, how it replaces, how coded segments follow their
words (fuzzed), the private key table (lead only, encrypted, in no export), all or nothing."""

from __future__ import annotations

import io
import random
import zipfile

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from safeharbor.audit.models import AuditEvent
from safeharbor.core.tests.pdf import pdf_text
from safeharbor.core.tests.personas import verified_client
from safeharbor.research import redaction, services
from safeharbor.research.models import (
    CodingAction,
    Memo,
    RedactionKey,
    Segment,
    SegmentCode,
    Transcript,
)
from safeharbor.research.redaction import Edit, EditPlan

from .factories import enrol

PII = (
    "Interviewer: Tell me about the referral.\n"
    "P04: I called Officer Smith at the Riverside County Sheriff's Office on Monday.\n"
    "P04: Then Maria Lopez from the Department of Children and Family Services met us at "
    "123 Main Street in Marin County.\n"
    "P04: You can reach Maria at (503) 555-0142 or maria.lopez@example.org.\n"
    "P04: Smith said the Safe Harbor Shelter had a bed. It was hard."
)


def _kinds(suggestions):
    return {(s.text, s.kind) for s in suggestions}


# --------------------------------------------------------------------------- suggestions


def test_suggestions_find_people_places_agencies_phones_and_emails():
    found = redaction.suggest(PII, generic_speakers=["P04"])
    kinds = _kinds(found)
    assert ("Smith", "person") in kinds  # after a title, and again where it starts a sentence
    assert [s.start for s in found if s.text == "Smith"] == [
        PII.index("Smith"),
        PII.rindex("Smith"),
    ]
    assert ("Riverside County Sheriff's Office", "agency") in kinds
    assert ("Department of Children and Family Services", "agency") in kinds
    assert ("Safe Harbor Shelter", "agency") in kinds
    assert ("Maria Lopez", "person") in kinds
    assert ("Maria", "person") in kinds  # a part of a name found elsewhere
    assert ("123 Main Street", "place") in kinds
    assert ("Marin County", "place") in kinds
    assert ("(503) 555-0142", "phone") in kinds
    assert ("maria.lopez@example.org", "email") in kinds
    texts = {s.text for s in found}
    # Speaker labels that identify nobody, weekdays and sentence starts are left alone.
    assert not texts & {"P04", "Interviewer", "Monday", "Then", "Tell", "It", "You"}


def test_suggestions_never_overlap_and_match_the_text():
    found = redaction.suggest(PII, generic_speakers=["P04"])
    for s in found:
        assert PII[s.start : s.end] == s.text
    for a, b in zip(found, found[1:], strict=False):
        assert a.end <= b.start


def test_suggestions_use_the_key_the_team_and_words_added_by_hand():
    text = "P01: Jordan told Ada Tester that the van was blue. ADA came back."
    found = redaction.suggest(
        text,
        known=[("Jordan", "person")],
        team_names=["Ada Tester"],
        generic_speakers=["P01"],
        added=[("van", "place")],
    )
    reasons = {s.text: s.reason for s in found}
    assert reasons["Jordan"] == redaction.KNOWN  # at a sentence start, found through the key
    assert reasons["Ada Tester"] == redaction.TEAM
    assert reasons["van"] == redaction.ADDED
    assert next(s.kind for s in found if s.text == "van") == "place"


def test_speaker_names_are_suggested_but_placeholders_are_not():
    text = "[00:00:05] Jordan Lee: Hi.\n[00:00:09] Interviewer: [PERSON 1] said you met Ana Ruiz."
    found = redaction.suggest(text)
    assert ("Jordan Lee", "person") in _kinds(found)
    assert ("Ana Ruiz", "person") in _kinds(found)
    assert all("PERSON" not in s.text for s in found)


def test_normalised_forms_make_one_original():
    assert redaction.normalise("(503) 555-0142") == redaction.normalise("+1 503.555.0142")
    assert redaction.normalise("Maria.Lopez@Example.org") == "mailto:maria.lopez@example.org"
    assert redaction.normalise("  Maria   Lopez ") == "Maria Lopez"


def test_context_shows_the_words_around():
    before, words, after = redaction.context(PII, PII.index("Maria Lopez"), PII.index(" from"))
    assert words == "Maria Lopez"
    assert before.endswith("Then ")
    assert "\n" not in before + after


# --------------------------------------------------------------------------- offset mapping

_ALPHABET = "ab .\n"


@st.composite
def _text_and_edits(draw):
    text = draw(st.text(alphabet=_ALPHABET, min_size=1, max_size=60))
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), min_size=0, max_size=8, unique=True)))
    edits = []
    for a, b in zip(cuts[::2], cuts[1::2], strict=False):
        if b > a:
            replacement = draw(st.text(alphabet="XYZ", min_size=1, max_size=12))
            edits.append(Edit(a, b, replacement))
    return text, edits


def _snap(edits, start, end):
    """The stretch a segment covers once its boundaries inside an edit move outwards."""
    for edit in edits:
        if edit.start < start < edit.end:
            start = edit.start
        if edit.start < end < edit.end:
            end = edit.end
    return start, end


@settings(max_examples=400, deadline=None)
@given(_text_and_edits(), st.data())
def test_a_segment_keeps_its_words_with_the_placeholders_in_them(text_edits, data):
    text, edits = text_edits
    plan = EditPlan(edits)
    new_text = plan.apply(text)
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    new_start, new_end = plan.map_range(start, end)
    assert 0 <= new_start < new_end <= len(new_text)
    # The new segment holds exactly the old stretch (snapped outwards) with its edits applied.
    lo, hi = _snap(edits, start, end)
    inside = [Edit(e.start - lo, e.end - lo, e.replacement) for e in edits if lo <= e.start < hi]
    assert new_text[new_start:new_end] == EditPlan(inside).apply(text[lo:hi])
    assert plan.touches(start, end) == any(e.start < end and start < e.end for e in edits)


@settings(max_examples=300, deadline=None)
@given(_text_and_edits(), st.data())
def test_the_mapping_keeps_order_and_untouched_words(text_edits, data):
    text, edits = text_edits
    plan = EditPlan(edits)
    new_text = plan.apply(text)
    a = data.draw(st.integers(0, len(text)))
    b = data.draw(st.integers(a, len(text)))
    assert plan.map_start(a) <= plan.map_start(b)
    assert plan.map_end(a) <= plan.map_end(b)
    assert plan.map_start(a) <= plan.map_end(a)
    if not any(e.start < b and a < e.end for e in edits):
        assert new_text[plan.map_start(a) : plan.map_end(b)] == text[a:b]
    assert plan.map_start(len(text)) == len(new_text)
    assert plan.map_end(len(text)) == len(new_text)


def test_edit_plans_refuse_overlaps_and_empty_edits():
    with pytest.raises(ValueError, match="overlap"):
        EditPlan([Edit(0, 4, "X"), Edit(3, 6, "Y")])
    with pytest.raises(ValueError, match="something"):
        EditPlan([Edit(2, 2, "X")])
    with pytest.raises(ValueError, match="something"):
        EditPlan([Edit(2, 4, "")])


# --------------------------------------------------------------------------- the service


@pytest.fixture
def pii(rworld):
    enrol(rworld.study, rworld.lead, "P04")
    [transcript] = services.transcripts_import(
        actor=rworld.lead,
        study=rworld.study,
        uploads=[services.Upload(filename="P04.txt", content=PII.encode())],
    )
    rworld.pii = transcript
    return rworld


def _choice(text, words, kind, nth=0):
    start = -1
    for _ in range(nth + 1):
        start = text.index(words, start + 1)
    return services.RedactionChoice(start, start + len(words), kind)


def _redact(actor, transcript, *choices):
    transcript = Transcript.objects.get(pk=transcript.pk)
    return services.transcript_redact(
        actor=actor,
        transcript=transcript,
        choices=list(choices),
        version=redaction.text_version(transcript.text),
    )


def test_redaction_replaces_with_stable_placeholders_and_keeps_a_key(pii):
    t = pii.pii
    result = _redact(
        pii.coder,
        t,
        _choice(PII, "Smith", "person"),
        _choice(PII, "Smith", "person", nth=1),
        _choice(PII, "Maria Lopez", "person"),
        _choice(PII, "(503) 555-0142", "phone"),
        _choice(PII, "Marin County", "place"),
    )
    text = Transcript.objects.get(pk=t.pk).text
    assert "Officer [PERSON 1] at" in text
    assert "[PERSON 1] said the Safe Harbor" in text  # the same words, the same placeholder
    assert "Then [PERSON 2] from" in text
    assert "[PHONE 1]" in text
    assert "555-0142" not in text
    assert "in [PLACE 1]." in text
    assert result.replaced == 5
    assert result.placeholders == ["[PERSON 1]", "[PERSON 2]", "[PLACE 1]", "[PHONE 1]"]
    assert result.new_keys == 4
    assert Transcript.objects.get(pk=t.pk).char_count == len(text)
    keys = {k.placeholder: k.original for k in RedactionKey.objects.filter(study=pii.study)}
    assert keys["[PERSON 1]"] == "Smith"
    assert keys["[PHONE 1]"] == "(503) 555-0142"
    event = AuditEvent.objects.filter(
        object_type="research.transcript", action="update", actor=pii.coder
    ).get()
    assert "redacted 5 stretches" in event.reason
    assert "Smith" not in event.reason


def test_the_same_original_keeps_its_placeholder_across_the_study(pii):
    _redact(pii.lead, pii.pii, _choice(PII, "(503) 555-0142", "phone"))
    other = "P01: Call 503.555.0142, or the new line 503-555-0199."
    participant = enrol(pii.study, pii.lead, "P05")
    [t2] = services.transcripts_import(
        actor=pii.lead,
        study=pii.study,
        uploads=[
            services.Upload(filename="P05.txt", content=other.encode(), participant=participant)
        ],
    )
    _redact(
        pii.lead,
        t2,
        _choice(other, "503.555.0142", "phone"),
        _choice(other, "503-555-0199", "phone"),
    )
    assert (
        Transcript.objects.get(pk=t2.pk).text == "P01: Call [PHONE 1], or the new line [PHONE 2]."
    )
    key = RedactionKey.objects.get(study=pii.study, kind="phone", number=1)
    assert set(key.transcripts.values_list("pk", flat=True)) == {pii.pii.pk, t2.pk}


def test_the_key_is_encrypted_at_rest(pii):
    _redact(pii.lead, pii.pii, _choice(PII, "Maria Lopez", "person"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT original, digest FROM research_redactionkey")
        [(stored, digest)] = cursor.fetchall()
    assert "Maria" not in stored
    assert "Maria" not in digest
    assert RedactionKey.objects.get().original == "Maria Lopez"


def test_coded_segments_follow_their_words(pii):
    t = pii.pii
    funding, tools = pii.codes["Funding"], pii.codes["Tools"]
    whole_line = PII.index("P04: Then")
    line_end = PII.index("\n", whole_line)
    covering = services.segment_apply(
        actor=pii.coder, transcript=t, start=whole_line, end=line_end, codes=[funding]
    )
    maria = PII.index("Maria Lopez")
    # Two segments of one coder inside the name: both become the placeholder, so they merge.
    half = services.segment_apply(
        actor=pii.coder, transcript=t, start=maria + 2, end=maria + 7, codes=[funding]
    )
    other_half = services.segment_apply(
        actor=pii.coder, transcript=t, start=maria + 1, end=maria + 4, codes=[tools]
    )
    memo = services.memo_add(
        actor=pii.coder, study=pii.study, body="Half a name", segment=other_half
    )
    last = PII.index("Safe Harbor Shelter")
    after = services.segment_apply(
        actor=pii.lead, transcript=t, start=last, end=len(PII), codes=[tools]
    )
    services.segment_set_exemplar(actor=pii.coder, segment=other_half, is_exemplar=True)
    result = _redact(
        pii.lead,
        t,
        _choice(PII, "Smith", "person"),
        _choice(PII, "Maria Lopez", "person"),
        _choice(PII, "123 Main Street", "place"),
    )
    text = Transcript.objects.get(pk=t.pk).text
    covering = Segment.objects.get(pk=covering.pk)
    assert covering.quote == text[covering.start : covering.end]
    assert covering.quote == (
        "P04: Then [PERSON 2] from the Department of Children and Family Services met us at "
        "[PLACE 1] in Marin County."
    )
    merged = Segment.objects.get(pk=half.pk)
    assert not Segment.objects.filter(pk=other_half.pk).exists()
    assert (merged.start, merged.end) == (text.index("[PERSON 2]"), text.index("[PERSON 2]") + 10)
    assert merged.quote == "[PERSON 2]"
    assert merged.is_exemplar
    assert set(SegmentCode.objects.filter(segment=merged).values_list("code_id", flat=True)) == {
        funding.pk,
        tools.pk,
    }
    assert Memo.objects.get(pk=memo.pk).segment_id == merged.pk
    after = Segment.objects.get(pk=after.pk)
    assert after.quote == "Safe Harbor Shelter had a bed. It was hard."
    assert after.end == len(text)
    assert (result.segments_changed, result.segments_merged) == (3, 1)
    for segment in Segment.objects.filter(transcript=t):
        assert segment.quote == text[segment.start : segment.end]


def test_the_undo_log_and_new_coding_follow_the_new_text(pii):
    t = pii.pii
    start = PII.index("Safe Harbor")
    services.segment_apply(
        actor=pii.coder, transcript=t, start=start, end=start + 11, codes=[pii.codes["Funding"]]
    )
    _redact(pii.lead, t, _choice(PII, "Smith", "person"), _choice(PII, "Maria Lopez", "person"))
    text = Transcript.objects.get(pk=t.pk).text
    action = CodingAction.objects.get(transcript=t)
    assert text[action.start : action.end] == "Safe Harbor"
    assert services.coding_undo(actor=pii.coder, study=pii.study) is not None
    assert not Segment.objects.filter(transcript=t).exists()
    # Coding reads the re-cut chunks: the quote comes out of the new text.
    t = Transcript.objects.get(pk=t.pk)
    at = text.index("[PERSON 2]")
    segment = services.segment_apply(
        actor=pii.coder, transcript=t, start=at, end=at + 15, codes=[pii.codes["Tools"]]
    )
    assert segment.quote == "[PERSON 2] from"


def test_random_coding_survives_random_redactions(pii):
    """Many random segments (several coders, overlapping, some inside names), then random
    confirmed stretches: every segment still holds exactly its words, none is empty, no two
    of one coder share a range, and every coding is kept (on a merged segment if need be)."""
    rng = random.Random(20260302)
    t = pii.pii
    coders = [pii.lead, pii.coder]
    codes = [pii.codes["Funding"], pii.codes["Tools"], pii.codes["Confidentiality"]]
    for _ in range(40):
        start = rng.randrange(0, len(PII) - 1)
        end = rng.randrange(start + 1, min(len(PII), start + 40) + 1)
        services.segment_apply(
            actor=rng.choice(coders),
            transcript=t,
            start=start,
            end=end,
            codes=[rng.choice(codes)],
        )
    before = {
        (s.coder_id, s.start, s.end): set(s.codes.values_list("pk", flat=True))
        for s in Segment.objects.filter(transcript=t)
    }
    candidates = redaction.suggest(PII, generic_speakers=["P04"])
    chosen = rng.sample(candidates, k=len(candidates) // 2 + 1)
    _redact(pii.lead, t, *(services.RedactionChoice(s.start, s.end, s.kind) for s in chosen))
    text = Transcript.objects.get(pk=t.pk).text
    # The edits that were made, rebuilt from the key table (the plan's mapping itself is
    # checked against plain substrings by the property tests above).
    placeholder = {k.digest: k.placeholder for k in RedactionKey.objects.filter(study=pii.study)}
    edits = [
        Edit(s.start, s.end, placeholder[redaction.digest(pii.study.pk, s.text)]) for s in chosen
    ]
    plan = EditPlan(edits)
    assert plan.apply(PII) == text
    after: dict[tuple[int, int, int], set[int]] = {}
    for s in Segment.objects.filter(transcript=t):
        assert 0 <= s.start < s.end <= len(text)
        assert s.quote == text[s.start : s.end]
        after[(s.coder_id, s.start, s.end)] = set(s.codes.values_list("pk", flat=True))
    expected: dict[tuple[int, int, int], set[int]] = {}
    for (coder, start, end), codes_on in before.items():
        lo, hi = _snap(edits, start, end)
        new_start, new_end = plan.map_range(start, end)
        inside = [
            Edit(e.start - lo, e.end - lo, e.replacement) for e in edits if lo <= e.start < hi
        ]
        assert text[new_start:new_end] == EditPlan(inside).apply(PII[lo:hi])
        expected.setdefault((coder, new_start, new_end), set()).update(codes_on)
    assert after == expected


# --------------------------------------------------------------------------- refused, no change


def _snapshot(t):
    return (
        Transcript.objects.get(pk=t.pk).text,
        RedactionKey.objects.count(),
        sorted(Segment.objects.filter(transcript=t).values_list("start", "end", "quote")),
    )


def test_bad_redactions_change_nothing(pii):
    t = pii.pii
    services.segment_apply(
        actor=pii.coder, transcript=t, start=10, end=60, codes=[pii.codes["Funding"]]
    )
    before = _snapshot(t)
    smith = _choice(PII, "Smith", "person")
    bad_sets = [
        [smith, services.RedactionChoice(smith.start + 2, smith.end + 3, "person")],  # overlap
        [smith, services.RedactionChoice(0, len(PII) + 5, "person")],  # outside the text
        [smith, services.RedactionChoice(smith.start - 1, smith.end, "person")],  # a space
        [services.RedactionChoice(smith.start, smith.end, "nickname")],
        [],
        [services.RedactionChoice(0, PII.index("Sheriff"), "person")],  # across a line
    ]
    for choices in bad_sets:
        with pytest.raises(ValidationError):
            _redact(pii.lead, t, *choices)
        assert _snapshot(t) == before
    with pytest.raises(ValidationError, match="changed since"):
        services.transcript_redact(actor=pii.lead, transcript=t, choices=[smith], version="stale")
    with pytest.raises(PermissionDenied):
        _redact(pii.viewer, t, smith)
    with pytest.raises(PermissionDenied):
        _redact(pii.outsider, t, smith)
    assert _snapshot(t) == before


def test_a_placeholder_is_not_redacted_again_and_withdrawn_transcripts_are_left(pii):
    t = pii.pii
    _redact(pii.lead, t, _choice(PII, "Smith", "person"))
    text = Transcript.objects.get(pk=t.pk).text
    with pytest.raises(ValidationError, match="already redacted"):
        _redact(pii.lead, t, _choice(text, "[PERSON 1]", "person"))
    services.participant_withdraw(actor=pii.lead, participant=t.participant)
    with pytest.raises(ValidationError, match="withdrawn"):
        _redact(pii.lead, t, _choice(text, "Maria Lopez", "person"))


def test_deleting_a_transcript_drops_the_keys_only_it_used(pii):
    _redact(pii.lead, pii.pii, _choice(PII, "Smith", "person"))
    t1 = pii.transcripts[0]
    from .factories import TRANSCRIPT

    _redact(pii.lead, t1, _choice(TRANSCRIPT, "Confidentiality", "agency"))
    assert RedactionKey.objects.count() == 2
    services.transcript_delete(actor=pii.lead, transcript=pii.pii)
    assert list(RedactionKey.objects.values_list("original", flat=True)) == ["Confidentiality"]


# --------------------------------------------------------------------------- pages and policy


def test_the_redaction_page_suggests_finds_and_applies(pii):
    client = verified_client(pii.coder)
    url = f"/research/{pii.study.pk}/transcripts/{pii.pii.pk}/redact/"
    page = client.get(url)
    body = page.content.decode()
    assert page.status_code == 200
    assert "<mark>Riverside County Sheriff&#x27;s Office</mark>" in body
    assert "Placeholder</th>" not in body  # a coder never sees the key
    version = redaction.text_version(PII)
    # Add "bed" by hand: it comes back ticked, with the earlier choices kept.
    smith = PII.index("Smith")
    ident = f"{smith}-{smith + 5}"
    found = client.post(
        url,
        {
            "op": "find",
            "version": version,
            "add-words": "bed",
            "add-kind": "place",
            "pick": [ident],
            "seen": [ident],
            f"kind-{ident}": "person",
        },
    )
    body = found.content.decode()
    bed = PII.index("bed")
    assert _ticked(body, f"{bed}-{bed + 3}")
    assert _ticked(body, ident)  # kept from the earlier form
    assert 'name="added" value="place:bed"' in body
    applied = client.post(
        url,
        {
            "op": "apply",
            "version": version,
            "pick": [ident, f"{bed}-{bed + 3}"],
            f"kind-{ident}": "person",
            f"kind-{bed}-{bed + 3}": "place",
        },
    )
    assert applied.status_code == 302
    text = Transcript.objects.get(pk=pii.pii.pk).text
    assert "Officer [PERSON 1] at" in text
    assert "had a [PLACE 1]." in text
    stale = client.post(url, {"op": "apply", "version": version, "pick": [ident]})
    assert stale.status_code == 400
    assert "changed since" in stale.content.decode()


def test_words_added_by_hand_start_ticked(pii):
    client = verified_client(pii.lead)
    url = f"/research/{pii.study.pk}/transcripts/{pii.pii.pk}/redact/"
    body = client.post(
        url, {"op": "find", "add-words": "BED", "add-kind": "place"}
    ).content.decode()
    bed = PII.index("bed")
    assert _ticked(body, f"{bed}-{bed + 3}")
    assert "added by you" in body
    smith = PII.index("Smith")
    assert not _ticked(body, f"{smith}-{smith + 5}")  # suggestions wait for the researcher
    # Once shown, a row added by hand stays as the researcher leaves it.
    again = client.post(
        url, {"op": "find", "added": ["place:BED"], "seen": [f"{bed}-{bed + 3}"]}
    ).content.decode()
    assert not _ticked(again, f"{bed}-{bed + 3}")


def _ticked(body, ident):
    marker = f'name="pick" value="{ident}"'
    assert marker in body, ident
    return body[body.index(marker) :].split(">", 1)[0].endswith(" checked")


def test_only_the_lead_sees_the_key_and_no_export_has_it(pii):
    _redact(
        pii.lead,
        pii.pii,
        _choice(PII, "Maria Lopez", "person"),
        _choice(PII, "Maria", "person", nth=1),
        _choice(PII, "maria.lopez@example.org", "email"),
    )
    s = pii.study.pk
    url = f"/research/{s}/redaction-key/"
    lead = verified_client(pii.lead)
    body = lead.get(url).content.decode()
    for shown in ("Maria Lopez", "[PERSON 1]", "[EMAIL 1]", "P04"):
        assert shown in body
    assert AuditEvent.objects.filter(object_type="research.redaction_key", action="view").exists()
    for who in (pii.coder, pii.viewer, pii.outsider):
        assert verified_client(who).get(url).status_code == 404
    assert "Redaction key" in lead.get(f"/research/{s}/").content.decode()
    assert "Redaction key" not in verified_client(pii.coder).get(f"/research/{s}/").content.decode()
    exports = [
        lead.get(f"/research/{s}/export/{name}").content
        for name in ("segments.csv", "codebook.csv", "matrix.csv", "codebook.qdc", "findings.docx")
    ]
    for name in (
        "project.qdpx",
        "findings.docx",
        "segments.xlsx",
        "codebook.xlsx",
        "matrix.xlsx",
    ):
        archive = zipfile.ZipFile(io.BytesIO(lead.get(f"/research/{s}/export/{name}").content))
        exports.extend(archive.read(entry) for entry in archive.namelist())
    pdf = lead.get(f"/research/{s}/export/findings.pdf").content
    exports.append(pdf_text(pdf).encode("latin-1"))  # the pages' streams, decompressed
    for blob in exports:
        assert b"Maria" not in blob
        assert b"example.org" not in blob
    assert any(b"[PERSON 1]" in blob for blob in exports)  # the redacted transcript travels


def test_viewers_cannot_redact(pii):
    url = f"/research/{pii.study.pk}/transcripts/{pii.pii.pk}/redact/"
    assert verified_client(pii.viewer).get(url).status_code == 404
    assert verified_client(pii.outsider).get(url).status_code == 404
    assert verified_client(pii.viewer).post(url, {"op": "apply"}).status_code == 404
    transcript_page = verified_client(pii.viewer).get(
        f"/research/{pii.study.pk}/transcripts/{pii.pii.pk}/"
    )
    assert "/redact/" not in transcript_page.content.decode()
    assert "/redact/" in (
        verified_client(pii.coder)
        .get(f"/research/{pii.study.pk}/transcripts/{pii.pii.pk}/")
        .content.decode()
    )


def test_asking_for_suggestions_is_audited(pii):
    verified_client(pii.coder).get(f"/research/{pii.study.pk}/transcripts/{pii.pii.pk}/redact/")
    assert AuditEvent.objects.filter(
        object_type="research.redaction_suggestions", actor=pii.coder, action="view"
    ).exists()


def test_segments_shifting_onto_each_others_old_ranges_do_not_clash(pii):
    """After "Smith" becomes "[PERSON 1]" (5 characters longer), the first segment takes the
    second's old range: updated in place one row at a time, the unique range per coder would
    refuse it (PostgreSQL checks it row by row)."""
    t = pii.pii
    at = PII.index("Riverside")
    first = services.segment_apply(
        actor=pii.coder, transcript=t, start=at, end=at + 10, codes=[pii.codes["Tools"]]
    )
    second = services.segment_apply(
        actor=pii.coder, transcript=t, start=at + 5, end=at + 15, codes=[pii.codes["Tools"]]
    )
    _redact(pii.lead, t, _choice(PII, "Smith", "person"))
    text = Transcript.objects.get(pk=t.pk).text
    first, second = Segment.objects.get(pk=first.pk), Segment.objects.get(pk=second.pk)
    assert (first.start, second.start) == (at + 5, at + 10)
    assert first.quote == text[first.start : first.end] == PII[at : at + 10]


def test_the_lead_sees_which_placeholder_a_suggestion_would_get(pii):
    _redact(pii.lead, pii.pii, _choice(PII, "Smith", "person"))
    url = f"/research/{pii.study.pk}/transcripts/{pii.pii.pk}/redact/"
    lead = verified_client(pii.lead).get(url).content.decode()
    assert "<td>[PERSON 1]</td>" in lead  # the second "Smith", found through the key
    assert "already redacted in this study" in lead
    coder = verified_client(pii.coder).get(url).content.decode()
    assert "<td>[PERSON 1]</td>" not in coder
    assert "already redacted in this study" in coder


def _queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_the_redaction_pages_run_a_fixed_number_of_queries(pii):
    client = verified_client(pii.lead)
    s = pii.study.pk
    urls = [f"/research/{s}/transcripts/{pii.pii.pk}/redact/", f"/research/{s}/redaction-key/"]
    _redact(pii.lead, pii.pii, _choice(PII, "Smith", "person"))
    client.get(urls[0])  # the session's expiry is pushed back at most once a minute: not counted
    few = {url: _queries(client, url) for url in urls}
    text = Transcript.objects.get(pk=pii.pii.pk).text
    _redact(
        pii.lead,
        pii.pii,
        _choice(text, "Maria Lopez", "person"),
        _choice(text, "Marin County", "place"),
        _choice(text, "(503) 555-0142", "phone"),
    )
    for transcript in pii.transcripts:
        _redact(pii.lead, transcript, _choice(transcript.text, "Confidentiality", "agency"))
    for url in urls:
        assert _queries(client, url) == few[url], url


# --------------------------------------------------------------------------- memos


def _memo_choice(memo, words, kind, nth=0):
    choice = _choice(Memo.objects.get(pk=memo.pk).body, words, kind, nth)
    return services.RedactionChoice(choice.start, choice.end, kind, memo.pk)


def _memo_version(memo):
    return {memo.pk: redaction.text_version(Memo.objects.get(pk=memo.pk).body)}


def test_memos_share_the_transcripts_key_table(pii):
    t = pii.pii
    segment = services.segment_apply(
        actor=pii.coder, transcript=t, start=0, end=11, codes=[pii.codes["Tools"]]
    )
    on_transcript = services.memo_add(
        actor=pii.coder, study=pii.study, body="Ask Maria Lopez again.", transcript=t
    )
    on_segment = services.memo_add(
        actor=pii.coder, study=pii.study, body="Smith called 503-555-0142.", segment=segment
    )
    result = services.transcript_redact(
        actor=pii.coder,
        transcript=Transcript.objects.get(pk=t.pk),
        choices=[
            _choice(PII, "Maria Lopez", "person"),
            _memo_choice(on_transcript, "Maria Lopez", "person"),
            _memo_choice(on_segment, "Smith", "person"),
            _memo_choice(on_segment, "503-555-0142", "phone"),
        ],
        version=redaction.text_version(PII),
        memo_versions={**_memo_version(on_transcript), **_memo_version(on_segment)},
    )
    assert result.replaced == 4
    assert "Then [PERSON 1] from" in Transcript.objects.get(pk=t.pk).text
    assert Memo.objects.get(pk=on_transcript.pk).body == "Ask [PERSON 1] again."
    assert Memo.objects.get(pk=on_segment.pk).body == "[PERSON 2] called [PHONE 1]."
    keys = {k.original: k for k in RedactionKey.objects.filter(study=pii.study)}
    maria = keys["Maria Lopez"]
    assert set(maria.memos.values_list("pk", flat=True)) == {on_transcript.pk}
    assert set(maria.transcripts.values_list("pk", flat=True)) == {t.pk}
    assert list(keys["Smith"].transcripts.all()) == []  # only the memo used it so far
    assert "in memos" in AuditEvent.objects.filter(object_type="research.transcript").last().reason
    # The memo's words are encrypted at rest like the transcript's.
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM research_memo")
        assert all("PERSON" not in row[0] for row in cursor.fetchall())


def test_a_changed_memo_or_a_bad_stretch_changes_nothing(pii):
    t = pii.pii
    memo = services.memo_add(actor=pii.lead, study=pii.study, body="Maria Lopez said", transcript=t)
    args = {
        "actor": pii.lead,
        "transcript": Transcript.objects.get(pk=t.pk),
        "version": redaction.text_version(PII),
    }
    smith = _choice(PII, "Smith", "person")
    with pytest.raises(ValidationError, match="A memo changed"):
        services.transcript_redact(
            **args,
            choices=[smith, _memo_choice(memo, "Maria", "person")],
            memo_versions={memo.pk: "stale"},
        )
    with pytest.raises(ValidationError, match="In a memo"):
        services.transcript_redact(
            **args,
            choices=[smith, services.RedactionChoice(0, 99, "person", memo.pk)],
            memo_versions=_memo_version(memo),
        )
    code_memo = services.memo_add(
        actor=pii.lead, study=pii.study, body="Maria Lopez", code=pii.codes["Tools"]
    )
    with pytest.raises(ValidationError, match="cannot be redacted here"):
        services.transcript_redact(
            **args,
            choices=[_memo_choice(code_memo, "Maria", "person")],
            memo_versions=_memo_version(code_memo),
        )
    assert Transcript.objects.get(pk=t.pk).text == PII
    assert Memo.objects.get(pk=memo.pk).body == "Maria Lopez said"
    assert not RedactionKey.objects.exists()


def test_the_transcript_page_suggests_in_its_memos_and_applies(pii):
    t = pii.pii
    memo = services.memo_add(
        actor=pii.coder, study=pii.study, body="Call Officer Smith back.", transcript=t
    )
    client = verified_client(pii.coder)
    url = f"/research/{pii.study.pk}/transcripts/{t.pk}/redact/"
    body = client.get(url).content.decode()
    at = "Call Officer Smith back.".index("Smith")
    ident = f"m{memo.pk}:{at}-{at + 5}"
    assert f'name="pick" value="{ident}"' in body
    assert "Memo on the transcript by Coder Tester" in body
    assert "Where</th>" in body
    assert f'name="memo-version-{memo.pk}"' in body
    applied = client.post(
        url,
        {
            "op": "apply",
            "version": redaction.text_version(PII),
            f"memo-version-{memo.pk}": redaction.text_version(memo.body),
            "pick": [ident],
            f"kind-{ident}": "person",
        },
    )
    assert applied.status_code == 302
    assert Memo.objects.get(pk=memo.pk).body == "Call Officer [PERSON 1] back."
    assert Transcript.objects.get(pk=t.pk).text == PII  # only the memo was ticked


def test_memos_on_codes_have_their_own_page(pii):
    _redact(pii.lead, pii.pii, _choice(PII, "Maria Lopez", "person"))
    memo = services.memo_add(
        actor=pii.lead,
        study=pii.study,
        body="Maria Lopez at the Riverside County Sheriff's Office uses this.",
        code=pii.codes["Tools"],
    )
    url = f"/research/{pii.study.pk}/memos/redact/"
    for who in (pii.viewer, pii.outsider):
        assert verified_client(who).get(url).status_code == 404
        assert verified_client(who).post(url, {"op": "apply"}).status_code == 404
    lead = verified_client(pii.lead)
    body = lead.get(url).content.decode()
    assert "Memo on the code Identification tools" in body
    assert "<td>[PERSON 1]</td>" in body  # the transcript's placeholder, found through the key
    assert "already redacted in this study" in body
    assert url in lead.get(f"/research/{pii.study.pk}/codebook/").content.decode()
    text = Memo.objects.get(pk=memo.pk).body
    agency = "Riverside County Sheriff's Office"
    spans = [
        f"m{memo.pk}:0-11",
        f"m{memo.pk}:{text.index(agency)}-{text.index(agency) + len(agency)}",
    ]
    applied = lead.post(
        url,
        {
            "op": "apply",
            f"memo-version-{memo.pk}": redaction.text_version(text),
            "pick": spans,
            f"kind-{spans[0]}": "person",
            f"kind-{spans[1]}": "agency",
        },
    )
    assert applied.status_code == 302
    assert Memo.objects.get(pk=memo.pk).body == "[PERSON 1] at the [AGENCY 1] uses this."
    assert AuditEvent.objects.filter(object_type="research.memo", action="update").exists()
    assert AuditEvent.objects.filter(object_type="research.memo_redaction_suggestions").exists()
    stale = lead.post(url, {"op": "apply", f"memo-version-{memo.pk}": "old", "pick": spans[:1]})
    assert stale.status_code == 400
    # A key only a code's memo uses outlives the transcripts.
    services.transcript_delete(actor=pii.lead, transcript=pii.pii)
    assert set(RedactionKey.objects.values_list("original", flat=True)) == {
        "Maria Lopez",
        agency,
    }
    key_page = lead.get(f"/research/{pii.study.pk}/redaction-key/").content.decode()
    assert "1 memo" in key_page


def test_memos_on_a_withdrawn_participants_transcript_are_left(pii):
    t = pii.pii
    services.memo_add(actor=pii.lead, study=pii.study, body="Maria Lopez", transcript=t)
    services.participant_withdraw(actor=pii.lead, participant=t.participant)
    page = verified_client(pii.lead).get(f"/research/{pii.study.pk}/transcripts/{t.pk}/redact/")
    assert 'name="pick"' not in page.content.decode()
