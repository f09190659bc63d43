"""The study pages and the coding API through HTTP, with query-count checks."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from safeharbor.audit.models import AuditEvent
from safeharbor.core.tests.personas import verified_client
from safeharbor.research import selectors, services
from safeharbor.research.models import (
    CodingAction,
    Interview,
    Participant,
    Segment,
    Study,
    Transcript,
)

from .factories import TRANSCRIPT, enrol, make_study


def test_researcher_runs_a_study_through_the_pages(world):
    client = verified_client(world.university_researcher)
    response = client.post(
        "/research/new/",
        {
            "title": "Study A",
            "research_questions": "Q1",
            "sampling_method": "snowball",
            "target_sample_size": 10,
            "consent_form_text": "Consent text",
            "debrief_statement_text": "Debrief text",
            "interview_guide": "First?\nSecond?",
        },
    )
    study = Study.objects.get(title="Study A")
    assert response.status_code == 302
    assert study.interview_guide == ["First?", "Second?"]
    base = f"/research/{study.pk}"
    client.post(
        f"{base}/participants/new/",
        {"code": "P01", "professional_role": "social_worker", "agency_type": "child_welfare"},
    )
    participant = Participant.objects.get(study=study)
    # interview before consent: refused, and nothing saved
    response = client.post(
        f"{base}/participants/{participant.pk}/interview/",
        {
            "interviewed_on": "2026-03-02",
            "mode": "video",
            "duration_minutes": 40,
            "interviewer": world.university_researcher.pk,
        },
    )
    assert response.status_code == 200
    assert "Record this participant&#x27;s consent" in response.content.decode()
    assert not Interview.objects.exists()
    form = study.documents.get(kind="consent_form")
    client.post(
        f"{base}/participants/{participant.pk}/consent/",
        {
            "form": form.pk,
            "consented_on": "2026-03-01",
            "method": "written",
            "permission_to_record": "on",
        },
    )
    client.post(
        f"{base}/participants/{participant.pk}/interview/",
        {
            "interviewed_on": "2026-03-02",
            "mode": "video",
            "duration_minutes": 40,
            "interviewer": world.university_researcher.pk,
        },
    )
    assert Interview.objects.count() == 1
    response = client.post(
        f"{base}/transcripts/import/",
        {"upload": [SimpleUploadedFile("P01 interview.txt", TRANSCRIPT.encode())]},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    transcript = Transcript.objects.get(study=study)
    code = services.code_create(actor=world.university_researcher, study=study, name="Funding")
    page = client.get(f"{base}/transcripts/{transcript.pk}/")
    assert page.status_code == 200
    assert 'data-start="' in page.content.decode()
    # keyboard path: choose a paragraph, apply a code
    response = client.post(
        f"{base}/transcripts/{transcript.pk}/", {"paragraph": 1, "codes": [code.pk]}
    )
    assert response.status_code == 302
    segment = Segment.objects.get()
    assert TRANSCRIPT[segment.start : segment.end] == TRANSCRIPT.split("\n")[1]
    # selection path: offsets from the script
    client.post(f"{base}/transcripts/{transcript.pk}/", {"start": 0, "end": 11, "codes": [code.pk]})
    assert Segment.objects.count() == 2
    body = client.get(f"{base}/transcripts/{transcript.pk}/").content.decode()
    assert f"c-{code.pk}" in body
    assert "<mark" in body
    client.post(f"{base}/segments/{segment.pk}/exemplar/", {"is_exemplar": "1"})
    assert Segment.objects.get(pk=segment.pk).is_exemplar
    client.post(f"{base}/undo/")
    assert Segment.objects.count() == 1


def test_a_bad_upload_keeps_the_form_and_saves_nothing(rworld):
    client = verified_client(rworld.lead)
    response = client.post(
        f"/research/{rworld.study.pk}/transcripts/import/",
        {
            "upload": [
                SimpleUploadedFile("P02-b.docx", b"not a docx"),
                SimpleUploadedFile("P03-b.txt", b"fine"),
            ]
        },
    )
    assert response.status_code == 200
    assert "is not a Word (.docx) document" in response.content.decode()
    assert Transcript.objects.count() == 3


def test_overlapping_segments_are_visible(rworld):
    t = rworld.transcripts[0]
    services.segment_apply(
        actor=rworld.lead, transcript=t, start=0, end=30, codes=[rworld.codes["Funding"]]
    )
    services.segment_apply(
        actor=rworld.lead, transcript=t, start=10, end=40, codes=[rworld.codes["Tools"]]
    )
    body = (
        verified_client(rworld.lead)
        .get(f"/research/{rworld.study.pk}/transcripts/{t.pk}/")
        .content.decode()
    )
    assert 'class="hl c-' in body
    assert "overlap" in body


def test_blind_coding_shows_each_coder_only_their_own(rworld):
    services.study_update(actor=rworld.lead, study=rworld.study, blind_coding=True)
    t = rworld.transcripts[0]
    services.segment_apply(
        actor=rworld.lead, transcript=t, start=0, end=30, codes=[rworld.codes["Funding"]]
    )
    body = (
        verified_client(rworld.coder)
        .get(f"/research/{rworld.study.pk}/transcripts/{t.pk}/")
        .content.decode()
    )
    assert "<mark" not in body
    assert "Nothing coded yet" in body


def _api(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_api_applies_and_removes_codes(rworld):
    t = rworld.transcripts[0]
    client = _api(rworld.coder)
    url = f"/api/v1/research/transcripts/{t.pk}/segments/"
    response = client.post(
        url, {"start": 3, "end": 15, "codes": [rworld.codes["Funding"].pk]}, format="json"
    )
    assert response.status_code == 201, response.content
    segment_id = response.json()["id"]
    assert response.json()["codes"] == [rworld.codes["Funding"].pk]
    assert client.get(url).json()[0]["id"] == segment_id
    bad = client.post(
        url, {"start": 3, "end": 10_000, "codes": [rworld.codes["Funding"].pk]}, format="json"
    )
    assert bad.status_code == 400
    foreign = client.post(url, {"start": 3, "end": 5, "codes": [999999]}, format="json")
    assert foreign.status_code == 400
    assert (
        _api(rworld.viewer)
        .post(url, {"start": 1, "end": 2, "codes": [rworld.codes["Funding"].pk]}, format="json")
        .status_code
        == 404
    )
    assert _api(rworld.outsider).get(url).status_code == 404
    gone = client.delete(
        f"/api/v1/research/segments/{segment_id}/codes/{rworld.codes['Funding'].pk}/"
    )
    assert gone.status_code == 204
    assert not Segment.objects.filter(pk=segment_id).exists()
    assert AuditEvent.objects.filter(object_type="research.segment").count() == 2


def test_applying_a_code_never_decrypts_the_transcript(rworld, monkeypatch):
    """The coding endpoint reads only the length: decrypting would call the keyring."""
    from safeharbor.core import crypto

    t = rworld.transcripts[0]
    client = _api(rworld.coder)
    calls = []
    real = crypto.Keyring.decrypt
    monkeypatch.setattr(
        crypto.Keyring, "decrypt", lambda self, *a: calls.append(a[1]) or real(self, *a)
    )
    response = client.post(
        f"/api/v1/research/transcripts/{t.pk}/segments/",
        {"start": 0, "end": 5, "codes": [rworld.codes["Funding"].pk]},
        format="json",
    )
    assert response.status_code == 201
    assert b"research_transcript.text" not in calls


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_pages_run_a_fixed_number_of_queries(rworld):
    client = verified_client(rworld.lead)
    s = rworld.study.pk
    t = rworld.transcripts[0]
    urls = [
        f"/research/{s}/",
        f"/research/{s}/analysis/",
        f"/research/{s}/codebook/",
        f"/research/{s}/transcripts/{t.pk}/",
        f"/research/{s}/codes/{rworld.codes['Funding'].pk}/",
        f"/api/v1/research/transcripts/{t.pk}/segments/",
        f"/research/{s}/export/segments.csv",
    ]
    services.segment_apply(
        actor=rworld.lead, transcript=t, start=0, end=5, codes=[rworld.codes["Funding"]]
    )
    client.get(urls[0])  # the session's expiry is pushed back at most once a minute: not counted
    few = {url: _count(client, url) for url in urls}
    for index in range(10):
        for transcript in rworld.transcripts:
            services.segment_apply(
                actor=rworld.coder,
                transcript=transcript,
                start=index,
                end=index + 20,
                codes=[rworld.codes["Funding"], rworld.codes["Tools"]],
            )
    services.code_create(actor=rworld.lead, study=rworld.study, name="More")
    for url in urls:
        assert _count(client, url) == few[url], url


def test_the_nav_shows_research_to_researchers_and_team_members(rworld):
    assert b"/research/" in verified_client(rworld.outsider).get("/").content
    assert (
        b"Research studies"
        not in verified_client(rworld.world.county_caseworker).get("/youth/").content
    )


def test_withdrawal_page_offers_transcript_deletion(rworld):
    client = verified_client(rworld.lead)
    p = rworld.participants[2]
    page = client.get(f"/research/{rworld.study.pk}/participants/{p.pk}/withdraw/")
    assert "delete this participant" in page.content.decode()
    client.post(
        f"/research/{rworld.study.pk}/participants/{p.pk}/withdraw/", {"delete_transcripts": "on"}
    )
    assert not Transcript.objects.filter(participant=p).exists()
    assert Participant.objects.get(pk=p.pk).withdrawn_at is not None


def test_reads_are_audited(rworld):
    client = verified_client(rworld.viewer)
    s = rworld.study.pk
    client.get(f"/research/{s}/participants/{rworld.participants[0].pk}/")
    client.get(f"/research/{s}/transcripts/{rworld.transcripts[0].pk}/")
    client.get(f"/research/{s}/analysis/")
    kinds = set(
        AuditEvent.objects.filter(actor=rworld.viewer, action="view").values_list(
            "object_type", flat=True
        )
    )
    assert {"research.participant", "research.transcript", "research.analysis"} <= kinds


def test_segment_lists_give_code_ids_ascending_and_the_export_every_column(rworld):
    import csv
    import io

    t = rworld.transcripts[0]
    low, high = sorted([rworld.codes["Funding"], rworld.codes["Tools"]], key=lambda c: c.pk)
    # The higher code id first: the lists still give the ids (and names) ascending.
    segment = services.segment_apply(actor=rworld.lead, transcript=t, start=2, end=9, codes=[high])
    services.segment_apply(actor=rworld.lead, transcript=t, start=2, end=9, codes=[low])
    client = verified_client(rworld.lead)
    listed = client.get(f"/api/v1/research/transcripts/{t.pk}/segments/").json()
    assert [row for row in listed if row["id"] == segment.pk] == [
        {
            "id": segment.pk,
            "transcript": t.pk,
            "start": 2,
            "end": 9,
            "coder": rworld.lead.pk,
            "is_exemplar": False,
            "codes": [low.pk, high.pk],
        }
    ]
    page = client.get(f"/research/{rworld.study.pk}/transcripts/{t.pk}/").content.decode()
    assert f'data-codes="#{low.pk} #{high.pk}"' in page
    text = client.get(f"/research/{rworld.study.pk}/export/segments.csv").content.decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "segment_id"
    assert [row for row in rows[1:] if row[0] == str(segment.pk)] == [
        [
            str(segment.pk),
            t.participant.code,
            t.participant.professional_role,
            t.name,
            "2",
            "9",
            f"{low.name}; {high.name}",
            rworld.lead.username,
            "",
            Transcript.objects.get(pk=t.pk).text[2:9],
        ]
    ]


def _tree(study):
    return list(study.codes.order_by("pk").values_list("pk", "parent_id", "position"))


def test_a_drop_on_the_codebook_moves_through_the_move_form_and_can_be_undone(rworld):
    """codebook.js posts the move form's fields with Accept: application/json; the same view
    answers with JSON, and the codebook's undo takes the move back."""
    study, lead = rworld.study, rworld.lead
    funding, tools = rworld.codes["Funding"], rworld.codes["Tools"]
    client = verified_client(lead)
    client.handler.enforce_csrf_checks = True
    page = client.get(f"/research/{study.pk}/codebook/")
    body = page.content.decode()
    assert f'data-move-url="/research/{study.pk}/codes/{funding.pk}/move/"' in body
    assert "research/codebook.js" in body
    assert "Undo my last move" not in body
    url = f"/research/{study.pk}/codes/{funding.pk}/move/"
    form = {"parent": tools.pk, "position": "", "next": "codebook"}
    # no CSRF token: refused, nothing moves
    refused = client.post(url, form, HTTP_ACCEPT="application/json")
    assert refused.status_code == 403
    assert study.codes.get(pk=funding.pk).parent_id != tools.pk
    form["csrfmiddlewaretoken"] = page.cookies["csrftoken"].value
    moved = client.post(url, form, HTTP_ACCEPT="application/json")
    assert moved.status_code == 200
    assert moved.json() == {"message": "“Funding” moved.", "parent": tools.pk, "position": 0}
    assert study.codes.get(pk=funding.pk).parent_id == tools.pk
    assert AuditEvent.objects.filter(object_type="research.code", reason__contains="moved").exists()
    page = client.get(f"/research/{study.pk}/codebook/")
    assert "“Funding” moved." in page.content.decode()  # shown once the script reloads
    assert "Undo my last move" in page.content.decode()
    undo = client.post(
        f"/research/{study.pk}/undo/",
        {"what": "move", "csrfmiddlewaretoken": form["csrfmiddlewaretoken"]},
    )
    assert undo.status_code == 302
    assert undo.url == f"/research/{study.pk}/codebook/"
    assert study.codes.get(pk=funding.pk).parent_id == rworld.codes["Barriers"].pk
    # a position is the place in the codebook (the page's counting query keeps it)
    form.update(parent=rworld.codes["Barriers"].pk, position=0)
    assert client.post(url, form, HTTP_ACCEPT="application/json").json()["position"] == 0
    body = client.get(f"/research/{study.pk}/codebook/").content.decode()
    assert body.index(">Funding</a>") < body.index(">Confidentiality</a>")


def test_the_move_endpoint_refuses_bad_input_with_a_clear_error_and_changes_nothing(rworld, world):
    study, lead = rworld.study, rworld.lead
    funding, barriers = rworld.codes["Funding"], rworld.codes["Barriers"]
    category = services.code_create(
        actor=lead, study=study, name="Systems", level="category", parent=barriers
    )
    other = services.code_create(
        actor=world.university_researcher,
        study=make_study(world.university_researcher, title="Other"),
        name="Elsewhere",
    )
    before = _tree(study)
    client = verified_client(lead)
    json = {"HTTP_ACCEPT": "application/json"}
    cases = [
        (funding, {"parent": other.pk}, "Select a valid choice"),
        (funding, {"parent": "x"}, "Select a valid choice"),
        (
            funding,
            {"parent": rworld.codes["Tools"].pk, "position": "-1"},
            "greater than or equal to 0",
        ),
        (barriers, {"parent": category.pk}, "cannot move under itself or its own codes"),
        (category, {"parent": funding.pk}, "themes hold categories, categories hold codes"),
    ]
    for code, data, words in cases:
        response = client.post(f"/research/{study.pk}/codes/{code.pk}/move/", data, **json)
        assert response.status_code == 400, data
        assert words in response.json()["error"], response.json()
    # the form without the script: back to the code page with the message
    response = client.post(
        f"/research/{study.pk}/codes/{category.pk}/move/", {"parent": funding.pk}, follow=True
    )
    assert "categories hold codes" in response.content.decode()
    assert _tree(study) == before
    # coder, viewer and outsider: not found (the codebook's structure is the lead's)
    for user in (rworld.coder, rworld.viewer, rworld.outsider):
        response = verified_client(user).post(
            f"/research/{study.pk}/codes/{funding.pk}/move/", {"parent": ""}, **json
        )
        assert response.status_code == 404
        body = verified_client(user).get(f"/research/{study.pk}/codebook/").content.decode()
        assert "data-move-url" not in body
        assert "codebook.js" not in body
    anonymous = Client().post(f"/research/{study.pk}/codes/{funding.pk}/move/", {"parent": ""})
    assert anonymous.status_code == 302
    assert "/accounts/login/" in anonymous.url
    assert _tree(study) == before
    assert not CodingAction.objects.filter(kind="move").exists()


def test_the_transcript_is_laid_out_as_when_each_paragraph_tested_every_segment():
    """render_transcript sweeps down the text; the same HTML as testing every segment against
    every paragraph (the straightforward way, kept here as the reference)."""
    import random

    from django.utils.html import escape

    from safeharbor.research.selectors import _covering, render_transcript

    def reference(text, segments):
        html, offset = [], 0
        for line in text.split("\n"):
            start, end = offset, offset + len(line)
            offset = end + 1
            inside = [s for s in segments if s[0] < end and s[1] > start]
            cuts = sorted({start, end, *(max(start, min(end, p)) for s in inside for p in s[:2])})
            pieces = []
            for a, b in zip(cuts, cuts[1:], strict=False):
                if a == b:
                    continue
                piece = escape(line[a - start : b - start])
                codes = _covering(inside, a, b)
                if not codes:
                    pieces.append(f'<span data-start="{a}">{piece}</span>')
                    continue
                classes = [f"hl c-{codes[0]}"]
                if len(codes) > 1:
                    classes.append("overlap")
                    classes.extend(f"u-{c}" for c in codes[1:2])
                label = " ".join(f"#{c}" for c in codes)
                pieces.append(
                    f'<mark data-start="{a}" data-codes="{label}" class="{" ".join(classes)}">'
                    f"{piece}</mark>"
                )
            html.append(f'<p data-start="{start}">{"".join(pieces) or "&nbsp;"}</p>')
        return "\n".join(html)

    rng = random.Random(7)
    text = "\n".join(
        "" if rng.random() < 0.1 else " ".join("wörd🙂<&>"[: rng.randint(1, 9)] for _ in range(20))
        for _ in range(60)
    )
    for _ in range(30):
        segments = sorted(
            (start, start + rng.randint(1, 400), sorted(rng.sample(range(1, 9), rng.randint(1, 3))))
            for start in (rng.randrange(len(text) - 1) for _ in range(rng.randint(0, 40)))
        )
        html, paragraphs = render_transcript(text, segments)
        assert str(html) == reference(text, segments)
        assert len(paragraphs) == 60


def test_the_transcript_page_shows_memos_legend_and_state_from_its_one_header_query(rworld):
    """The page reads the transcript, participant, study, team role, undo and whether memos
    exist in one statement; memos are then read only when there are some."""
    s, t = rworld.study, rworld.transcripts[0]
    url = f"/research/{s.pk}/transcripts/{t.pk}/"
    lead = verified_client(rworld.lead)
    services.code_create(actor=rworld.lead, study=s, name='Fear & "trust" <b>')
    lead.get(f"/research/{s.pk}/")  # the session's expiry push, not counted below
    without_memos = _count(lead, url)
    body = lead.get(url).content.decode()
    assert "No memos yet." in body
    assert "Fear &amp; &quot;trust&quot; &lt;b&gt;</span></li>" in body
    assert "<b>" not in body.split('class="legend"')[1].split("</ul>")[0]
    assert "Undo my last coding" not in body
    segment = services.segment_apply(
        actor=rworld.coder, transcript=t, start=0, end=12, codes=[rworld.codes["Funding"]]
    )
    services.memo_add(actor=rworld.coder, study=s, body="On the words", segment=segment)
    body = lead.get(url).content.decode()
    assert "On the words" in body
    assert "on a segment" in body
    funding = rworld.codes["Funding"]
    chip = f'<span class="chip c-{funding.pk}">{funding.name}</span>'
    assert body.count(chip) == 2  # the segment's code and the legend
    assert "Undo my last coding" not in body  # the coder's coding, not the lead's
    assert _count(lead, url) == without_memos + 1
    services.memo_add(actor=rworld.lead, study=s, body="On the whole", transcript=t)
    services.segment_apply(
        actor=rworld.lead, transcript=t, start=20, end=30, codes=[rworld.codes["Tools"]]
    )
    body = lead.get(url).content.decode()
    assert body.index("On the words") < body.index("On the whole")
    assert "Undo my last coding" in body
    # a viewer reads the page without the coding form; another study's URL finds nothing
    viewer = verified_client(rworld.viewer).get(url).content.decode()
    assert "On the whole" in viewer
    assert 'id="code-form"' not in viewer
    other = make_study(rworld.lead, title="Elsewhere")
    assert lead.get(f"/research/{other.pk}/transcripts/{t.pk}/").status_code == 404
    assert verified_client(rworld.outsider).get(url).status_code == 404
    # withdrawn: the notice, no form
    services.participant_withdraw(actor=rworld.lead, participant=t.participant)
    body = lead.get(url).content.decode()
    assert "This participant has withdrawn" in body
    assert 'id="code-form"' not in body


def test_the_coding_api_answers_not_found_before_bad_input_and_in_two_reads(rworld):
    """The transcript and the codes are read in one statement; "not found" (a viewer, an
    outsider, no such transcript) still comes before "bad input", and the answer keeps
    SegmentSerializer's shape."""
    t = rworld.transcripts[0]
    url = f"/api/v1/research/transcripts/{t.pk}/segments/"
    tools, funding = rworld.codes["Tools"], rworld.codes["Funding"]
    for user in (rworld.viewer, rworld.outsider):
        bad = _api(user).post(url, {"start": 5, "end": 1, "codes": []}, format="json")
        assert bad.status_code == 404
    client = _api(rworld.coder)
    missing = client.post(
        "/api/v1/research/transcripts/999999/segments/",
        {"start": 0, "end": 4, "codes": [tools.pk]},
        format="json",
    )
    assert missing.status_code == 404
    # Numbers too large for a database integer match nothing and are refused, never a crash.
    huge = 2**66
    beyond = client.post(
        f"/api/v1/research/transcripts/{huge}/segments/",
        {"start": 0, "end": 1, "codes": [tools.pk]},
        format="json",
    )
    assert beyond.status_code == 404
    for body in (
        {"start": 0, "end": 4, "codes": [huge]},
        {"start": huge, "end": huge + 1, "codes": [tools.pk]},
    ):
        assert client.post(url, body, format="json").status_code == 400
    bad = client.post(url, {"start": 0, "codes": []}, format="json")
    assert bad.status_code == 400
    assert set(bad.json()) == {"end", "codes"}
    other = services.code_create(
        actor=rworld.lead, study=make_study(rworld.lead, title="Other"), name="Elsewhere"
    )
    mixed = client.post(url, {"start": 0, "end": 4, "codes": [tools.pk, other.pk]}, format="json")
    assert mixed.status_code == 400
    assert mixed.json() == {"codes": ["Choose codes from this study's codebook."]}
    assert not Segment.objects.exists()
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            url, {"start": 0, "end": 4, "codes": [tools.pk, funding.pk, tools.pk]}, format="json"
        )
    assert response.status_code == 201
    segment = Segment.objects.get()
    assert response.json() == {
        "id": segment.pk,
        "transcript": t.pk,
        "start": 0,
        "end": 4,
        "coder": rworld.coder.pk,
        "is_exemplar": False,
        "codes": sorted([tools.pk, funding.pk]),
    }
    assert segment.quote == t.text[0:4]
    reads = [q["sql"] for q in queries if q["sql"].startswith("SELECT")]
    assert sum('"research_code"' in sql for sql in reads) == 1
    assert sum('"research_code"' in sql and '"research_transcript"' in sql for sql in reads) == 1


def _research_statements(client, method, url, **kwargs):
    """The response and the statements of a request that read or write research tables (the
    request's own: not the session, user, MFA device or audit event)."""
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(url, **kwargs)
    return response, [q["sql"] for q in queries if '"research_' in q["sql"]]


def test_hot_paths_make_one_round_trip_each_for_their_reads(rworld):
    """Applying a code, opening a transcript, a transcript's and a code's segments: the team
    check and the reads in one statement each; a new segment with its codings and undo
    entries in one more on PostgreSQL. (On SQLite, no round trips to save: applying a code
    reads again inside its transaction, and writes in three statements: no data-modifying
    WITH.)"""
    t = rworld.transcripts[0]
    funding, tools = rworld.codes["Funding"], rworld.codes["Tools"]
    client = verified_client(rworld.coder)
    s = rworld.study.pk
    response, statements = _research_statements(
        client,
        "post",
        f"/api/v1/research/transcripts/{t.pk}/segments/",
        data={"start": 3, "end": 20, "codes": [tools.pk, funding.pk]},
        content_type="application/json",
    )
    assert response.status_code == 201
    expected = 2 if connection.vendor == "postgresql" else 2 + 3
    assert len(statements) == expected, statements
    segment = Segment.objects.get()
    assert segment.quote == t.text[3:20]
    assert sorted(segment.codings.values_list("code_id", flat=True)) == sorted(
        [funding.pk, tools.pk]
    )
    # an undo entry per code, in the codebook's order (Funding before Identification tools)
    assert list(
        CodingAction.objects.order_by("id").values_list("code_id", "kind", "start", "end")
    ) == [(funding.pk, "apply", 3, 20), (tools.pk, "apply", 3, 20)]
    # (a code's segments on SQLite: the transcripts' labels from their index, a second
    # statement cheaper there than a lookup of each segment's transcript row)
    sqlite = int(connection.vendor == "sqlite")
    for url, expected in (
        (f"/research/{s}/transcripts/{t.pk}/", 1),
        (f"/api/v1/research/transcripts/{t.pk}/segments/", 1),
        (f"/api/v1/research/studies/{s}/codes/{funding.pk}/segments/", 1 + sqlite),
    ):
        response, statements = _research_statements(client, "get", url)
        assert response.status_code == 200, url
        assert len(statements) == expected, (url, statements)
    # undo takes the last undo entry first: the segment keeps Funding
    services.coding_undo(actor=rworld.coder, study=rworld.study)
    assert list(segment.codings.values_list("code_id", flat=True)) == [funding.pk]


def test_hot_path_reads_answer_404_off_the_team_and_for_another_study(rworld):
    t = rworld.transcripts[0]
    funding = rworld.codes["Funding"]
    services.segment_apply(actor=rworld.lead, transcript=t, start=0, end=9, codes=[funding])
    other = make_study(rworld.lead, title="Other")
    s = rworld.study.pk
    outsider = verified_client(rworld.outsider)
    for url in (
        f"/research/{s}/transcripts/{t.pk}/",
        f"/research/{other.pk}/transcripts/{t.pk}/",
        f"/api/v1/research/transcripts/{t.pk}/segments/",
        f"/api/v1/research/studies/{s}/codes/{funding.pk}/segments/",
        f"/api/v1/research/studies/{other.pk}/codes/{funding.pk}/segments/",
    ):
        client = verified_client(rworld.lead) if f"/{other.pk}/" in url else outsider
        assert client.get(url).status_code == 404, url
    assert (
        outsider.post(
            f"/api/v1/research/transcripts/{t.pk}/segments/",
            {"start": 0, "end": 4, "codes": [funding.pk]},
            content_type="application/json",
        ).status_code
        == 404
    )
    # a viewer sees the segments but may not code
    viewer = verified_client(rworld.viewer)
    listed = viewer.get(f"/api/v1/research/studies/{s}/codes/{funding.pk}/segments/")
    assert [row["quote"] for row in listed.json()] == [t.text[0:9]]
    assert (
        viewer.post(
            f"/api/v1/research/transcripts/{t.pk}/segments/",
            {"start": 20, "end": 24, "codes": [funding.pk]},
            content_type="application/json",
        ).status_code
        == 404
    )
    assert Segment.objects.count() == 1


def test_a_code_s_segments_leave_out_withdrawn_participants_and_list_every_code(rworld):
    funding, tools = rworld.codes["Funding"], rworld.codes["Tools"]
    first, second = rworld.transcripts[0], rworld.transcripts[1]
    services.segment_apply(
        actor=rworld.lead, transcript=first, start=0, end=9, codes=[funding, tools]
    )
    services.segment_apply(actor=rworld.lead, transcript=second, start=5, end=15, codes=[funding])
    client = verified_client(rworld.lead)
    url = f"/api/v1/research/studies/{rworld.study.pk}/codes/{funding.pk}/segments/"
    assert [row["participant"] for row in client.get(url).json()] == ["P01", "P02"]
    page = client.get(f"/research/{rworld.study.pk}/codes/{funding.pk}/").content.decode()
    assert "P01" in page
    assert "P02" in page
    services.participant_withdraw(actor=rworld.lead, participant=rworld.participants[1], note="")
    assert [row["participant"] for row in client.get(url).json()] == ["P01"]
    _s, _c, rows = selectors.code_segments(
        actor=rworld.lead, study_id=rworld.study.pk, code_id=funding.pk
    )
    assert [(r.participant_code, r.codes, r.quote) for r in rows] == [
        ("P01", sorted([funding.pk, tools.pk]), first.text[0:9])
    ]


def test_import_keeps_a_small_request_in_memory_and_still_checks_csrf(
    rworld, monkeypatch, settings
):
    from django.core.files.uploadedfile import InMemoryUploadedFile, TemporaryUploadedFile

    from safeharbor.research import views

    study = rworld.study
    url = f"/research/{study.pk}/transcripts/import/"
    seen: list[type] = []
    real_init = views.forms.TranscriptImportForm.__init__

    def form_init(self, data=None, files=None, **kwargs):
        if files:
            seen.extend(type(f) for f in files.getlist("upload"))
        real_init(self, data, files, **kwargs)

    monkeypatch.setattr(views.forms.TranscriptImportForm, "__init__", form_init)
    rworld.participants.append(enrol(study, rworld.lead, "P04"))
    rworld.participants.append(enrol(study, rworld.lead, "P05"))
    client = verified_client(rworld.lead)
    client.handler.enforce_csrf_checks = True
    files = [SimpleUploadedFile("P04.txt", b"Words one."), SimpleUploadedFile("P05.txt", b"Two.")]
    assert client.post(url, {"upload": files}).status_code == 403
    assert Transcript.objects.count() == 3
    token = client.get(url).context["csrf_token"]
    files = [SimpleUploadedFile("P04.txt", b"Words one."), SimpleUploadedFile("P05.txt", b"Two.")]
    response = client.post(url, {"upload": files, "csrfmiddlewaretoken": str(token)})
    assert response.status_code == 302
    assert Transcript.objects.count() == 5
    assert seen == [InMemoryUploadedFile, InMemoryUploadedFile]
    # a request over the import's in-memory limit goes on to the configured handlers: over
    # their limit too, to temporary files, as before
    seen.clear()
    monkeypatch.setattr(views, "IMPORT_IN_MEMORY", 10)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10
    files = [SimpleUploadedFile("P04-b.txt", b"Again.")]
    client.post(url, {"upload": files, "csrfmiddlewaretoken": str(token)})
    assert seen == [TemporaryUploadedFile]
