"""Research workbench benchmark: the Taguette workload (../shared/bench/taguette/) on Safe Harbor.

The issue's targets, at 100 transcripts of ~6,000 words, 20 codes and 2,000-10,000 coded
segments, with encryption and audit on: import all transcripts at most 1 s; applying a code p95
at most 10 ms and not growing with the transcript's length; opening a transcript with 50
segments at most 10 ms; one code's segments at most 35 ms; the analysis page at most 500 ms; CSV
export of all segments at most 250 ms; .qdpx export at most 5 s; a slow export never blocks
other users' requests.

The workload is the shared harness's: ``gen_corpus.py`` (run from ../shared/bench/taguette, never
copied) writes the corpus, the 20 tags and the plan of 2,000 highlights (document 0 gets exactly
50). Each step goes through the real HTTP stack in this process (``django.test.Client``: routing,
middleware, MFA, CSP, session save, the view, its queries, its audit event):

- import: one POST of all 100 .txt files to the import page (all or nothing, encrypted);
- apply: the 2,000 highlights, one POST each to ``/api/v1/research/transcripts/<id>/segments/``
  (word ranges turned into code-point offsets client-side, as the harness does for Taguette);
  then the same on one 60,000-word transcript to show the cost does not grow with length;
- reads: transcript page and segments API of document 0 (50 segments), each code's segments,
  the analysis page; after 8,000 more segments (a second coder, bulk-inserted through the real
  model fields) so the reads run at 10,000 segments;
- exports: segments CSV and XLSX, codebook .qdc and CSV, project .qdpx, findings .docx;
- blocking: a cheap request from another thread (own DB connection) 50 ms into a .qdpx export.

Taguette 1.5.2 is measured in the same run when ``--taguette-venv`` (or $BENCH_TAGUETTE_VENV)
names a virtualenv that has it: the shared ``bench.py`` drives a fresh Taguette server over HTTP
on 127.0.0.1 (stopped by its PID) with the same corpus; the ratios are in the table.

    DATABASE_URL=sqlite:////tmp/bench-research.sqlite3 .venv/bin/python benchmarks/bench_research.py
Prints one JSON object on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.common import (  # noqa: E402  (after the project root is on sys.path)
    percentile,
    summary,
    verified_client,
    wait_for_quiet,
)

HARNESS = ROOT.parent / "shared" / "bench" / "taguette"

NAME = "research"
TITLE = "Research workbench: the Taguette workload (import, coding, reads, exports)"
DEFAULT_URL = "sqlite:////tmp/bench-research.sqlite3"
BENCH_PASSWORD = "bench-password-1234"  # noqa: S105  (a throwaway benchmark database)
SEED = 20240601
TARGETS = {
    "import_all": 1000.0,
    "apply_p95": 10.0,
    "open_transcript": 10.0,
    "code_segments": 35.0,
    "analysis": 500.0,
    "segments_csv": 250.0,
    "qdpx": 5000.0,
}


@dataclass(frozen=True)
class Scale:
    docs: int
    words: int
    highlights: int
    extra_segments: int
    long_words: int
    reads: int
    export_reps: int


FULL = Scale(
    docs=100,
    words=6000,
    highlights=2000,
    extra_segments=8000,
    long_words=60000,
    reads=20,
    export_reps=5,
)
QUICK = Scale(
    docs=10,
    words=6000,
    highlights=200,
    extra_segments=800,
    long_words=20000,
    reads=5,
    export_reps=2,
)


def log(message: str) -> None:
    print(f"[bench {NAME}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- corpus and database


def make_corpus(
    scale: Scale,
    out: Path,
    *,
    docs: int | None = None,
    words: int | None = None,
    highlights: int | None = None,
) -> Path:
    """Run the shared generator (never copied) into ``out`` unless already there."""
    if not (out / "manifest.json").exists():
        command = [
            sys.executable,
            str(HARNESS / "gen_corpus.py"),
            "--out",
            str(out),
            "--docs",
            str(docs or scale.docs),
            "--words",
            str(words or scale.words),
            "--highlights",
            str(highlights or scale.highlights),
            "--heavy-doc-highlights",
            "50",
            "--seed",
            str(SEED),
        ]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)  # noqa: S603
    return out


def fresh_database(url: str) -> None:
    import environ
    from django.core.management import call_command
    from django.db import connections

    config = environ.Env.db_url_config(url)
    connections.close_all()
    if config["ENGINE"].endswith("sqlite3"):
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(config["NAME"] + suffix).unlink()
    else:
        import psycopg
        from psycopg import sql

        with psycopg.connect(
            host=config.get("HOST") or "127.0.0.1",
            port=int(config.get("PORT") or 5432),
            user=config.get("USER") or "postgres",
            dbname="postgres",
            autocommit=True,
        ) as conn:
            name = sql.Identifier(config["NAME"])
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
    call_command("migrate", verbosity=0, interactive=False)


def timed(client: Any, method: str, url: str, **kwargs: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    response = getattr(client, method)(url, **kwargs)
    elapsed = (time.perf_counter() - t0) * 1000
    if response.status_code not in (200, 201, 302):
        raise SystemExit(
            f"{method.upper()} {url} answered {response.status_code}: {response.content[:300]!r}"
        )
    return response, elapsed


def setup_study(n_participants: int, tag_names: list[tuple[str, str]]) -> dict[str, Any]:
    """A researcher, a second coder, a study, participants with consent and interview, 20 codes."""
    import datetime

    from safeharbor.accounts.choices import AgencyKind, Role
    from safeharbor.accounts.services import agency_create, user_create
    from safeharbor.core import clock
    from safeharbor.research import services
    from safeharbor.research.choices import TeamRole

    agency = agency_create(name="Coastal University", kind=AgencyKind.RESEARCH, county="Harbor")
    lead = user_create(
        username="lead", password=BENCH_PASSWORD, agency=agency, role=Role.RESEARCHER
    )
    coder = user_create(
        username="coder2", password=BENCH_PASSWORD, agency=agency, role=Role.RESEARCHER
    )
    study = services.study_create(
        actor=lead,
        title="Benchmark",
        research_questions="Q",
        sampling_method="purposive",
        target_sample_size=n_participants,
        consent_form_text="Consent",
        debrief_statement_text="Debrief",
    )
    services.member_add(actor=lead, study=study, user=coder, role=TeamRole.CODER)
    form = study.documents.get(kind="consent_form")
    day = clock.today() - datetime.timedelta(days=30)
    for index in range(n_participants):
        participant = services.participant_add(
            actor=lead,
            study=study,
            code=f"interview_{index:03d}",
            professional_role=[
                "social_worker",
                "licensed_clinician",
                "law_enforcement",
                "community_advocate",
            ][index % 4],
            agency_type="other",
        )
        services.consent_record(
            actor=lead,
            participant=participant,
            form=form,
            consented_on=day,
            method="written",
            permission_to_record=True,
        )
        services.interview_record(
            actor=lead,
            participant=participant,
            interviewed_on=day,
            mode="video",
            duration_minutes=45,
            interviewer=lead,
        )
    codes = [
        services.code_create(actor=lead, study=study, name=path, description=description)
        for path, description in tag_names
    ]
    return {"lead": lead, "coder": coder, "study": study, "codes": codes}


def word_offsets(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]


# --------------------------------------------------------------------------- the workload


def run_workload(scale: Scale, corpus: Path) -> dict[str, Any]:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection

    from safeharbor.research.models import Segment, SegmentCode, Transcript

    manifest = json.loads((corpus / "manifest.json").read_text())["docs"]
    tags = json.loads((corpus / "tags.json").read_text())
    plan = json.loads((corpus / "highlight_plan.json").read_text())
    world = setup_study(len(manifest), [(t["path"], t["description"]) for t in tags])
    study, lead, codes = world["study"], world["lead"], world["codes"]
    client = verified_client(lead)
    results: dict[str, Any] = {}

    # A running server has loaded its URLconf (every app's views: about 0.6 s), templates and
    # middleware before anyone imports a transcript; warm this process the same way (one page)
    # so that the import below measures the import, not Python loading modules.
    timed(client, "get", f"/research/{study.pk}/")

    # (a) import: all files in one POST
    files = [
        SimpleUploadedFile(
            d["name"] + ".txt", (corpus / d["txt"]).read_bytes(), content_type="text/plain"
        )
        for d in manifest
    ]
    _response, import_ms = timed(
        client, "post", f"/research/{study.pk}/transcripts/import/", data={"upload": files}
    )
    transcripts = {t.name: t for t in Transcript.objects.filter(study=study).defer("text")}
    assert len(transcripts) == len(manifest), "import did not create every transcript"  # noqa: S101
    results["import_all"] = {
        "ms": round(import_ms, 1),
        "docs": len(manifest),
        "words": sum(d["words"] for d in manifest),
    }
    log(f"import: {import_ms:.0f} ms for {len(manifest)} transcripts")

    # word -> code-point offsets (client-side preparation, as the harness does)
    offsets = {}
    texts: dict[int, str] = {}
    for d in manifest:
        text = Transcript.objects.get(pk=transcripts[d["name"]].pk).text
        texts[transcripts[d["name"]].pk] = text
        offsets[d["index"]] = word_offsets(text)
    mismatches = sum(1 for d in manifest if len(offsets[d["index"]]) != d["words"])

    # (b) apply the plan
    apply_ms: list[float] = []
    for item in plan:
        spans = offsets[item["doc"]]
        start = spans[item["start_word"]][0]
        end = spans[min(item["start_word"] + item["n_words"], len(spans)) - 1][1]
        transcript = transcripts[manifest[item["doc"]]["name"]]
        _r, ms = timed(
            client,
            "post",
            f"/api/v1/research/transcripts/{transcript.pk}/segments/",
            data={"start": start, "end": end, "codes": [codes[t].pk for t in item["tags"]]},
            content_type="application/json",
        )
        apply_ms.append(ms)
    results["apply"] = {
        **summary(apply_ms),
        "first200": summary(apply_ms[:200]),
        "last200": summary(apply_ms[-200:]),
    }
    log(f"apply: p50 {results['apply']['p50']} p95 {results['apply']['p95']} ms")

    # (b') apply on a transcript ten times longer
    long_corpus = make_corpus(
        scale, corpus.parent / f"{corpus.name}-long", docs=1, words=scale.long_words, highlights=50
    )
    long_text = (long_corpus / "txt" / "interview_000.txt").read_bytes()
    from safeharbor.research import services

    participant = study.participants.first()
    long_t = services.transcripts_import(
        actor=lead,
        study=study,
        uploads=[services.Upload("long_interview.txt", long_text, participant)],
    )[0]
    long_spans = word_offsets(Transcript.objects.get(pk=long_t.pk).text)
    rng = random.Random(SEED)
    long_ms = []
    for _ in range(200):
        w = rng.randint(0, len(long_spans) - 61)
        n = rng.randint(10, 60)
        _r, ms = timed(
            client,
            "post",
            f"/api/v1/research/transcripts/{long_t.pk}/segments/",
            data={
                "start": long_spans[w][0],
                "end": long_spans[w + n][1],
                "codes": [codes[rng.randrange(len(codes))].pk],
            },
            content_type="application/json",
        )
        long_ms.append(ms)
    results["apply_long"] = {**summary(long_ms), "words": len(long_spans)}
    log(f"apply on {len(long_spans)} words: p95 {results['apply_long']['p95']} ms")
    Transcript.objects.filter(pk=long_t.pk).delete()  # keep the corpus as the workload says

    # (c) more segments for the reads: a second coder, bulk, never on document 0
    from safeharbor.core import clock

    doc_ids = [transcripts[d["name"]].pk for d in manifest[1:]] or [
        transcripts[manifest[0]["name"]].pk
    ]
    lengths = dict(Transcript.objects.filter(study=study).values_list("id", "char_count"))
    now = clock.now()
    extra = []
    for _ in range(scale.extra_segments):
        tid = rng.choice(doc_ids)
        start = rng.randint(0, lengths[tid] - 400)
        end = start + rng.randint(40, 380)
        extra.append(
            Segment(
                study=study,
                transcript_id=tid,
                start=start,
                end=end,
                coder=world["coder"],
                quote=texts[tid][start:end],
                created_at=now,
            )
        )
    Segment.objects.bulk_create(extra, batch_size=2000, ignore_conflicts=True)
    rows = [
        SegmentCode(segment_id=pk, code=code, created_at=now)
        for pk in Segment.objects.filter(coder=world["coder"]).values_list("pk", flat=True)
        for code in rng.sample(codes, rng.choice([1, 1, 2]))
    ]
    SegmentCode.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # what autovacuum does after a bulk load, at once
    n_segments = Segment.objects.filter(study=study).count()
    results["segments"] = n_segments
    results["codings"] = SegmentCode.objects.filter(segment__study=study).count()
    log(f"{n_segments} segments, {results['codings']} codings")

    # (d) reads
    doc0 = transcripts[manifest[0]["name"]]
    page_ms = [
        timed(client, "get", f"/research/{study.pk}/transcripts/{doc0.pk}/")[1]
        for _ in range(scale.reads + 3)
    ][3:]
    api_ms = [
        timed(client, "get", f"/api/v1/research/transcripts/{doc0.pk}/segments/")[1]
        for _ in range(scale.reads + 3)
    ][3:]
    n_doc0 = Segment.objects.filter(transcript=doc0).count()
    results["open_transcript_page"] = {**summary(page_ms), "segments": n_doc0}
    results["open_transcript_api"] = {**summary(api_ms), "segments": n_doc0}
    per_code = []
    for code in codes:
        times = [
            timed(client, "get", f"/api/v1/research/studies/{study.pk}/codes/{code.pk}/segments/")[
                1
            ]
            for _ in range(max(2, scale.reads // 4))
        ]
        per_code.append(percentile(times, 0.5))
    busiest = max(codes, key=lambda c: SegmentCode.objects.filter(code=c).count())
    busy_ms = [
        timed(client, "get", f"/api/v1/research/studies/{study.pk}/codes/{busiest.pk}/segments/")[1]
        for _ in range(scale.reads)
    ]
    results["code_segments"] = {
        **summary(per_code),
        "busiest": {
            **summary(busy_ms),
            "segments": SegmentCode.objects.filter(code=busiest).count(),
        },
    }
    analysis_ms = [
        timed(client, "get", f"/research/{study.pk}/analysis/")[1]
        for _ in range(max(3, scale.reads // 2))
    ]
    results["analysis"] = summary(analysis_ms)
    log(
        f"reads: transcript page p95 {results['open_transcript_page']['p95']}, "
        f"code p95 {results['code_segments']['p95']}, analysis p95 {results['analysis']['p95']}"
    )

    # (e) exports
    exports: dict[str, Any] = {}
    for name in (
        "segments.csv",
        "segments.xlsx",
        "codebook.csv",
        "codebook.qdc",
        "matrix.csv",
        "project.qdpx",
        "findings.docx",
    ):
        times, size = [], 0
        for _ in range(scale.export_reps):
            response, ms = timed(client, "get", f"/research/{study.pk}/export/{name}")
            times.append(ms)
            size = len(response.content)
        exports[name] = {**summary(times), "bytes": size}
    results["exports"] = exports
    log("exports: " + ", ".join(f"{k} {v['p50']} ms" for k, v in exports.items()))

    # (f) blocking: a cheap request 50 ms into a .qdpx export, from another thread
    cheap_url = "/research/"  # the study list: a cheap page
    idle = [timed(client, "get", cheap_url)[1] for _ in range(5)]
    other = verified_client(world["coder"])
    during = []
    slow_ms = []
    for _ in range(3):
        box: dict[str, float] = {}

        def slow(box: dict[str, float] = box) -> None:
            from django.db import connections

            try:
                box["slow"] = timed(client, "get", f"/research/{study.pk}/export/project.qdpx")[1]
            finally:
                connections.close_all()

        thread = threading.Thread(target=slow)
        thread.start()
        time.sleep(0.05)
        during.append(timed(other, "get", cheap_url)[1])
        thread.join()
        slow_ms.append(box["slow"])
    results["blocking"] = {
        "cheap_idle": summary(idle),
        "cheap_during_export": summary(during),
        "export": summary(slow_ms),
        "blocked": percentile(during, 0.5) >= percentile(slow_ms, 0.5) - 50,
    }
    results["word_count_mismatches"] = mismatches
    results["vendor"] = connection.vendor
    return results


# --------------------------------------------------------------------------- Taguette


def run_taguette(venv: Path, corpus: Path, workdir: Path, port: int = 7465) -> dict[str, Any]:
    """One Taguette run through the shared harness, on a fresh database, same corpus."""
    python = venv / "bin" / "python"
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "taguette.sqlite3"
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            Path(str(db) + suffix).unlink()
    out_log, err_log = workdir / "server.out", workdir / "server.err"
    with out_log.open("w") as out, err_log.open("w") as err:
        server = subprocess.Popen(  # noqa: S603
            [
                str(python),
                str(HARNESS / "taguette_launch.py"),
                "--no-browser",
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "--database",
                str(db),
            ],
            stdout=out,
            stderr=err,
        )
    try:
        for _ in range(150):
            if "token=" in out_log.read_text():
                break
            time.sleep(0.2)
        time.sleep(1.0)
        result_file = workdir / "result.json"
        subprocess.run(  # noqa: S603  (our venv's python and the shared harness, no shell)
            [
                str(python),
                str(HARNESS / "bench.py"),
                "run",
                "--target",
                "taguette",  # noqa: S603
                "--base-url",
                f"http://127.0.0.1:{port}",
                "--token-file",
                str(out_log),
                "--corpus",
                str(corpus),
                "--server-pid",
                str(server.pid),
                "--db-path",
                str(db),
                "--out",
                str(result_file),
                "--no-probes",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        data: dict[str, Any] = json.loads(result_file.read_text())
        return data
    finally:
        server.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=10)


def taguette_figures(t: dict[str, Any]) -> dict[str, float]:
    return {
        "import_all": t["import_total_s"] * 1000,
        "apply_p95": t["highlight_add"]["p95_ms"],
        "apply_p50": t["highlight_add"]["p50_ms"],
        "open_transcript": t["doc_load"]["ui_total"]["p50_ms"],
        "code_segments": t["tag_list_all_pages"]["p50_ms"],
        "segments_csv": t["exports"]["highlights_csv"]["p50_ms"],
    }


# --------------------------------------------------------------------------- report


def metrics(r: dict[str, Any], taguette: dict[str, float] | None) -> list[dict[str, Any]]:
    def ratio(key: str, ours: float) -> str:
        if not taguette or key not in taguette or not ours:
            return ""
        return f"; Taguette {taguette[key]:.1f} ms, {taguette[key] / ours:.1f}x"

    rows = [
        {
            "key": "import_all",
            "label": f"Import {r['import_all']['docs']} transcripts "
            f"({r['import_all']['words']:,} words), one POST",
            "value": r["import_all"]["ms"],
            "unit": "ms",
            "stat": "",
            "target": TARGETS["import_all"],
            "detail": "all or nothing, encrypted, audited"
            + ratio("import_all", r["import_all"]["ms"]),
        },
        {
            "key": "apply_p95",
            "label": "Apply a code (API), 6,000-word transcripts",
            "value": r["apply"]["p95"],
            "unit": "ms",
            "stat": "p95",
            "target": TARGETS["apply_p95"],
            "detail": f"p50 {r['apply']['p50']}, first 200 p95 {r['apply']['first200']['p95']}, "
            f"last 200 p95 {r['apply']['last200']['p95']}" + ratio("apply_p95", r["apply"]["p95"]),
        },
        {
            "key": "apply_long_p95",
            "label": f"Apply a code, one {r['apply_long']['words']:,}-word transcript",
            "value": r["apply_long"]["p95"],
            "unit": "ms",
            "stat": "p95",
            "target": TARGETS["apply_p95"],
            "detail": f"p50 {r['apply_long']['p50']}",
        },
        {
            "key": "open_transcript_page",
            "label": f"Open a transcript with "
            f"{r['open_transcript_page']['segments']} segments (page)",
            "value": r["open_transcript_page"]["p95"],
            "unit": "ms",
            "stat": "p95",
            "target": TARGETS["open_transcript"],
            "detail": f"p50 {r['open_transcript_page']['p50']}"
            + ratio("open_transcript", r["open_transcript_page"]["p50"]),
        },
        {
            "key": "open_transcript_api",
            "label": "The same transcript's segments (API)",
            "value": r["open_transcript_api"]["p95"],
            "unit": "ms",
            "stat": "p95",
            "target": TARGETS["open_transcript"],
            "detail": f"p50 {r['open_transcript_api']['p50']}",
        },
        {
            "key": "code_segments",
            "label": "One code's segments with quotes (API), median code",
            "value": r["code_segments"]["p95"],
            "unit": "ms",
            "stat": "p95 over codes",
            "target": TARGETS["code_segments"],
            "detail": f"p50 {r['code_segments']['p50']}"
            + ratio("code_segments", r["code_segments"]["p50"]),
        },
        {
            "key": "code_segments_busiest",
            "label": f"Busiest code's segments ({r['code_segments']['busiest']['segments']})",
            "value": r["code_segments"]["busiest"]["p95"],
            "unit": "ms",
            "stat": "p95",
            "target": TARGETS["code_segments"],
            "detail": f"p50 {r['code_segments']['busiest']['p50']}",
        },
        {
            "key": "analysis",
            "label": f"Analysis page ({r['segments']:,} segments)",
            "value": r["analysis"]["p95"],
            "unit": "ms",
            "stat": "p95",
            "target": TARGETS["analysis"],
            "detail": f"p50 {r['analysis']['p50']}",
        },
    ]
    for name, target_key in (("segments.csv", "segments_csv"), ("project.qdpx", "qdpx")):
        e = r["exports"][name]
        rows.append(
            {
                "key": f"export_{target_key}",
                "label": f"Export {name}",
                "value": e["p95"],
                "unit": "ms",
                "stat": "p95",
                "target": TARGETS[target_key],
                "detail": f"p50 {e['p50']}, {e['bytes']:,} bytes" + ratio(target_key, e["p50"]),
            }
        )
    for name in ("segments.xlsx", "codebook.qdc", "codebook.csv", "matrix.csv", "findings.docx"):
        e = r["exports"][name]
        rows.append(
            {
                "key": f"export_{name}",
                "label": f"Export {name}",
                "value": e["p50"],
                "unit": "ms",
                "stat": "p50",
                "target": None,
                "detail": f"{e['bytes']:,} bytes",
            }
        )
    b = r["blocking"]
    rows.append(
        {
            "key": "blocking",
            "label": "Cheap page 50 ms into a .qdpx export (other thread)",
            "value": b["cheap_during_export"]["p50"],
            "unit": "ms",
            "stat": "p50",
            "target": None,
            "detail": f"idle p50 {b['cheap_idle']['p50']}, export p50 "
            f"{b['export']['p50']}; blocked: {'yes' if b['blocked'] else 'no'}",
        }
    )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rebuild", action="store_true", help="(always rebuilt; accepted)")
    parser.add_argument("--taguette-venv", default=os.environ.get("BENCH_TAGUETTE_VENV", ""))
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=0.0,
        help="wait up to this many seconds for a quieter machine first",
    )
    parser.add_argument("--quiet-load", type=float, default=1.5)
    args = parser.parse_args(argv)
    scale = QUICK if args.quick else FULL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    url = os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    import django

    django.setup()
    work = Path(os.environ.get("BENCH_RESEARCH_DIR", "/tmp/bench-research"))  # noqa: S108
    corpus = make_corpus(scale, work / ("corpus-quick" if args.quick else "corpus"))
    waited = wait_for_quiet(args.quiet_load, args.quiet_wait, log) if args.quiet_wait else 0.0
    started = time.perf_counter()
    fresh_database(url)
    build_s = round(time.perf_counter() - started, 1)
    load_before = os.getloadavg()
    measured = run_workload(scale, corpus)
    load_after = os.getloadavg()
    taguette = None
    taguette_raw: dict[str, Any] | str = "not run: no --taguette-venv given"
    venv = Path(args.taguette_venv) if args.taguette_venv else None
    if venv and (venv / "bin" / "python").exists():
        log("running Taguette on the same corpus")
        try:
            cached = work / "taguette" / "result.json"
            if cached.exists() and not args.rebuild and time.time() - cached.stat().st_mtime < 3600:
                log("reusing the Taguette result measured in the last hour on this corpus")
                raw = json.loads(cached.read_text())
            else:
                raw = run_taguette(venv, corpus, work / "taguette")
            taguette = taguette_figures(raw)
            taguette_raw = {
                k: raw[k]
                for k in (
                    "import_total_s",
                    "highlight_add",
                    "doc_load",
                    "tag_list_all_pages",
                    "exports",
                    "peak_rss_MiB",
                )
                if k in raw
            }
        except (subprocess.CalledProcessError, OSError, KeyError) as exc:
            taguette_raw = f"failed: {exc}"
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT current_setting('server_version')")
            version = f"PostgreSQL {cursor.fetchone()[0]}"
        else:
            cursor.execute("SELECT sqlite_version()")
            version = f"SQLite {cursor.fetchone()[0]}"
    from safeharbor.audit.models import AuditEvent

    result = {
        "benchmark": NAME,
        "title": TITLE,
        "quick": args.quick,
        "scale": {**asdict(scale), "requests": scale.reads, "warmup": 3},
        "database": {
            "version": version,
            "settings": connection.vendor,
            "summary": f"{measured['segments']:,} segments, {measured['codings']:,} "
            f"codings, {AuditEvent.objects.count():,} audit events",
        },
        "build": {"cached": False, "built_at": "this run", "build_seconds": build_s},
        "waited_for_quiet_s": waited,
        "results": measured,
        "taguette": taguette_raw,
        "load_average": {
            "before": [round(x, 2) for x in load_before],
            "after": [round(x, 2) for x in load_after],
        },
        "metrics": metrics(measured, taguette),
    }
    print(json.dumps(result, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
