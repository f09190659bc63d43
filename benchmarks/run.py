"""``make bench``: every benchmarks/bench_*.py on SQLite and PostgreSQL, into docs/performance.md.

Each benchmark runs as its own process (so it can choose its settings and database), once per
database, and prints one JSON object on stdout. This script gathers them, keeps the raw JSON in
benchmarks/out/ (git-ignored), and rewrites that benchmark's section of docs/performance.md, the
text between ``<!-- bench:NAME:start -->`` and ``<!-- bench:NAME:end -->``; the rest of the file is
left as it is.

Databases (each benchmark gets its own, and drops and rebuilds it when it must):
- SQLite: ``$BENCH_SQLITE_DIR/bench-NAME.sqlite3`` (default directory /tmp).
- PostgreSQL, when it answers at ``$BENCH_PG_URL`` (default
  postgres://postgres@127.0.0.1:5432/bench_foundation): the database named there is the
  foundation benchmark's; another benchmark uses ``bench_NAME`` on the same server (or the URL's
  ``{name}`` placeholder, filled in). ``--quick`` runs use ``..._quick`` databases, so a smoke run
  never throws away a full-scale build.

What a benchmark prints (one JSON object): ``title``; ``metrics``, a list of rows with ``key``,
``label``, ``value``, ``unit``, ``stat`` (e.g. "p95"), ``target`` (a maximum, or null) and
``detail``; and, optionally, ``database`` (``version``, ``settings``, ``summary``: one line about
its data), ``scale`` (``requests``, ``warmup``), ``build`` (``cached``, ``built_at``) and
``load_average`` (``before``/``after``, as ``os.getloadavg()``). It is run with
``DATABASE_URL`` and ``DJANGO_SETTINGS_MODULE=config.settings.test`` set, plus ``--quick`` and
``--rebuild`` when asked, and must exit 0.

Options: ``--quick`` (small scale; prints the table and leaves the docs alone unless ``--write``),
``--only NAME``, ``--db sqlite|postgres|both``, ``--rebuild``, ``--no-write``, ``--strict`` (exit 1
when a target is missed), ``--quiet-wait SECONDS`` (passed to benchmarks that accept it),
``--render`` (run nothing; rewrite the docs from the results kept in benchmarks/out/).
"""

from __future__ import annotations

import argparse
import datetime
import fcntl
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "benchmarks"
OUT_DIR = BENCH_DIR / "out"
DOC = ROOT / "docs" / "performance.md"
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/bench_foundation"
DATABASES = ("sqlite", "postgres")
COLUMN = {"sqlite": "SQLite", "postgres": "PostgreSQL"}

INTRO = """# Performance

What the benchmarks in `benchmarks/` measure, on which machine, and what they found. Every figure
below was written by the command named with it; rerun it rather than editing the numbers.

- **How to run:** `make bench` (that is `.venv/bin/python benchmarks/run.py`). It runs every
  `benchmarks/bench_*.py` on SQLite and, when PostgreSQL answers at `$BENCH_PG_URL` (default
  `postgres://postgres@127.0.0.1:5432/bench_foundation`), on PostgreSQL too, and rewrites the
  marked section of this file for each benchmark. `--only foundation` runs one benchmark,
  `--db sqlite` one database (the other column keeps its last kept result, dated), `--quick` a
  small smoke run (it prints and leaves this file alone), `--rebuild` ignores a cached database,
  `--quiet-wait 1500` waits longer for a quiet machine, `--render` rewrites the sections from the
  results kept in `benchmarks/out/` without running anything.
- **What is measured:** server time, the wall time of `django.test.Client.get` in the benchmark's
  process: URL routing, every middleware (the session is saved on each request, MFA, CSP, axes),
  the view, its queries, its audit events and the template. No web server and no network, so a
  deployed request adds those. p50/p95/max come from N requests per row after a warm-up (nearest
  rank), the rows measured round robin so that other work on the machine falls on all alike.
  "N queries taking x of y ms" comes from a separate profiled request: time inside the database
  driver against the whole request (the rest is Python: middleware, decryption, templates, and
  commits).
- **Data:** built fast and realistically by each benchmark (bulk inserts through the real model
  fields, so identifiers are really encrypted; the audit trail is a real hash chain); the built
  database is reused while its fingerprint (scale, builder, every migration, the code that shapes
  stored bytes) and row counts still match, and the audit events an earlier run wrote are removed
  first, so every run measures at the stated scale.
- **Machine:** each section names the machine, the database versions, the date, the command and
  the load average around the measurement (a full run first waits up to 5 minutes for the
  machine to be quiet); the database server runs on the same machine as the benchmark.
  `benchmarks/diagnose_foundation.py` prints per-query timings and query plans for the
  foundation pages.
"""


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def discover(only: str | None) -> list[Path]:
    scripts = sorted(BENCH_DIR.glob("bench_*.py"))
    if only:
        wanted = only.removeprefix("bench_").removesuffix(".py")
        scripts = [s for s in scripts if s.stem == f"bench_{wanted}"]
        if not scripts:
            raise SystemExit(f"No benchmark named {only!r} in {BENCH_DIR}.")
    return scripts


def pg_url_for(name: str, quick: bool) -> str:
    base = os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL)
    if "{name}" in base:
        url = base.replace("{name}", name)
    elif name == "foundation":
        url = base
    else:
        url = urlunsplit(urlsplit(base)._replace(path=f"/bench_{name}"))
    if quick:
        parts = urlsplit(url)
        url = urlunsplit(parts._replace(path=parts.path.rstrip("/") + "_quick"))
    return url


def sqlite_url_for(name: str, quick: bool) -> str:
    directory = Path(os.environ.get("BENCH_SQLITE_DIR", "/tmp"))  # noqa: S108  (scratch file)
    suffix = "-quick" if quick else ""
    return f"sqlite:///{(directory / f'bench-{name}{suffix}.sqlite3').resolve()}"


def postgres_answers(url: str) -> str | None:
    """None when the server answers; otherwise why not (the benchmark database may not exist)."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    parts = urlsplit(url)
    try:
        psycopg.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=parts.username or "postgres",
            password=parts.password or None,
            dbname="postgres",
            connect_timeout=3,
        ).close()
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]
    return None


def machine() -> dict[str, Any]:
    cpu = ""
    ram_gib = None
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        match = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
        cpu = match.group(1).strip() if match else ""
        meminfo = Path("/proc/meminfo").read_text()
        match = re.search(r"^MemTotal:\s*(\d+) kB", meminfo, re.MULTILINE)
        ram_gib = round(int(match.group(1)) / 2**20, 1) if match else None
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": cpu or platform.processor(),
        "ram_gib": ram_gib,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def run_one(script: Path, database: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": url,
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, str(script)]
    if args.quick:
        command.append("--quick")
    if args.rebuild:
        command.append("--rebuild")
    if args.quiet_wait is not None and "--quiet-wait" in script.read_text():
        command += ["--quiet-wait", str(args.quiet_wait)]
    log(f"{script.stem} on {COLUMN[database]} ({url})")
    started = time.perf_counter()
    # Our own interpreter running our own script: no untrusted input.
    completed = subprocess.run(  # noqa: S603
        command, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False
    )
    seconds = round(time.perf_counter() - started, 1)
    if completed.returncode != 0:
        return {"error": f"exited with status {completed.returncode}", "wall_seconds": seconds}
    try:
        result: dict[str, Any] = json.loads(completed.stdout)
    except json.JSONDecodeError:
        return {"error": "did not print one JSON object", "wall_seconds": seconds}
    result["wall_seconds"] = seconds
    result["measured_at"] = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    log(f"{script.stem} on {COLUMN[database]}: done in {seconds} s")
    return result


def _load(result: dict[str, Any]) -> str:
    """The 1-minute load average before and after measuring (other work on the machine)."""
    load = result.get("load_average") or {}
    if not load:
        return "unknown"
    return f"{load['before'][0]:.1f} before, {load['after'][0]:.1f} after measuring"


def earlier_result(name: str, database: str, quick: bool) -> dict[str, Any] | None:
    """The last kept result for a database this run was not asked to measure."""
    path = OUT_DIR / f"{name}-{database}{'-quick' if quick else ''}.json"
    if not path.exists():
        return None
    result: dict[str, Any] = json.loads(path.read_text())
    result["earlier"] = True
    return result


def _number(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and value >= 100:
        return f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def _cell(metric: dict[str, Any] | None, error: str | None) -> str:
    if metric is None:
        return error or "not run"
    text = f"**{_number(metric['value'])} {metric['unit']}**"
    return text + (f" ({metric['detail']})" if metric.get("detail") else "")


def _verdict(target: float | None, values: list[float | None]) -> str:
    if target is None:
        return ""
    measured = [v for v in values if v is not None]
    if not measured:
        return "not run"
    return "pass" if all(v <= target for v in measured) else "**FAIL**"


def _database_line(result: dict[str, Any]) -> str:
    """One line about a run: database, data, requests, build, time, load. Tolerant of
    benchmarks that report less than the foundation one does."""
    db = result.get("database") or {}
    scale = result.get("scale") or {}
    build = result.get("build") or {}
    # A benchmark may describe its own data in one "summary" line; else the foundation's keys.
    data = db.get("summary")
    if not data and "youth" in db:
        data = (
            f"{db['youth']:,} youth, {db.get('audit_events', 0):,} audit events, "
            f"{db.get('care_team_rows', 0):,} care-team rows, {db.get('consents', 0):,} consents, "
            f"{db.get('notes', 0):,} notes"
        )
    parts = [
        f"{db.get('version', 'database')}" + (f" ({db['settings']})" if db.get("settings") else "")
    ]
    if data:
        parts[0] += f": {data}"
    if scale.get("requests"):
        parts.append(f"{scale['requests']} requests per row after {scale.get('warmup', 0)} warm-up")
    if build.get("built_at"):
        parts.append(
            ("reused the database built " if build.get("cached") else "built ")
            + str(build["built_at"])
        )
    timing = f"run took {result.get('wall_seconds')} s"
    if result.get("measure_seconds") is not None:
        timing += f" (measuring {result['measure_seconds']} s"
        if result.get("waited_for_quiet_s"):
            timing += f", after waiting {result['waited_for_quiet_s']} s for a quieter machine"
        timing += ")"
    parts.append(timing)
    parts.append(f"load average {_load(result)}")
    earlier = ""
    if result.get("earlier"):
        how = f" with `{result['command']}`" if result.get("command") else ""
        earlier = f" (measured {result.get('measured_at')}{how})"
    return "; ".join(parts) + earlier + "."


def render_section(
    name: str,
    results: dict[str, dict[str, Any]],
    skipped: dict[str, str],
    command: str,
    host: dict[str, Any],
) -> tuple[str, bool]:
    """The Markdown between the markers, and whether every target was met."""
    any_result = next((r for r in results.values() if "metrics" in r), None)
    title = any_result["title"] if any_result else name
    lines = [f"## {title}", ""]
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    stamps = [str(r["measured_at"]) for r in results.values() if r.get("measured_at")]
    if results and stamps and all(r.get("earlier") for r in results.values()):
        when = max(stamps)  # re-rendered from kept results: when they were measured
    lines.append(f"Measured {when} with {command}.")
    lines.append("")
    ram = f", {host['ram_gib']} GiB RAM" if host.get("ram_gib") else ""
    lines.append(
        f"- Machine: {host['cores']} cores ({host['cpu']}){ram}, {host['os']}, "
        f"Python {host['python']}."
    )
    for database in DATABASES:
        result = results.get(database)
        if result is None:
            lines.append(f"- {COLUMN[database]}: not run ({skipped.get(database, 'not asked')}).")
            continue
        if "error" in result:
            lines.append(f"- {COLUMN[database]}: the benchmark failed ({result['error']}).")
            continue
        lines.append(f"- {_database_line(result)}")
    lines += ["", "| metric | SQLite | PostgreSQL | target | result |", "|---|---|---|---|---|"]
    keys: list[str] = []
    labels: dict[str, dict[str, Any]] = {}
    for result in results.values():
        for metric in result.get("metrics", []):
            if metric["key"] not in labels:
                keys.append(metric["key"])
                labels[metric["key"]] = metric
    all_pass = True
    for key in keys:
        first = labels[key]
        cells = []
        values: list[float | None] = []
        for database in DATABASES:
            result = results.get(database) or {}
            metric = next((m for m in result.get("metrics", []) if m["key"] == key), None)
            error = (
                "failed" if "error" in result else "not run" if database not in results else None
            )
            cells.append(_cell(metric, error))
            values.append(metric["value"] if metric else None)
        target = first.get("target")
        stat = f" {first['stat']}" if first.get("stat") else ""
        target_text = f"≤ {_number(target)} {first['unit']}{stat}" if target is not None else ""
        verdict = _verdict(target, values)
        all_pass = all_pass and verdict != "**FAIL**"
        label = first["label"] + (f", {first['stat']}" if first.get("stat") else "")
        lines.append(f"| {label} | {cells[0]} | {cells[1]} | {target_text} | {verdict} |")
    lines.append("")
    return "\n".join(lines), all_pass


def write_section(name: str, body: str) -> None:
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    block = f"{start}\n{body}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    DOC.parent.mkdir(parents=True, exist_ok=True)
    # Runs of different benchmarks may finish together: one writer at a time, each re-reading.
    with open(OUT_DIR / ".docs.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        text = DOC.read_text() if DOC.exists() else INTRO
        if pattern.search(text):
            text = pattern.sub(lambda _m: block, text, count=1)
        else:
            text = text.rstrip("\n") + "\n\n" + block + "\n"
        temporary = DOC.with_suffix(".md.tmp")
        temporary.write_text(text)
        temporary.replace(DOC)


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the benchmarks; write docs/performance.md.")
    parser.add_argument("--quick", action="store_true", help="small scale, for a smoke run")
    parser.add_argument("--only", metavar="NAME", help="one benchmark, e.g. foundation")
    parser.add_argument("--db", choices=[*DATABASES, "both"], default="both")
    parser.add_argument("--rebuild", action="store_true", help="rebuild cached databases")
    parser.add_argument("--write", action="store_true", help="write the docs after --quick too")
    parser.add_argument("--no-write", action="store_true", help="leave docs/performance.md alone")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--render",
        action="store_true",
        help="run nothing: rewrite the docs from the results kept in benchmarks/out/",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        metavar="SECONDS",
        help="how long a benchmark that supports it waits for a quiet machine before measuring",
    )
    args = parser.parse_args()
    command = (
        "make bench"
        if not sys.argv[1:]
        else shlex.join([".venv/bin/python", "benchmarks/run.py", *sys.argv[1:]])
    )
    write = not args.no_write and (args.write or not args.quick)
    host = machine()
    OUT_DIR.mkdir(exist_ok=True)
    failed = False
    for script in discover(args.only):
        name = script.stem.removeprefix("bench_")
        results: dict[str, dict[str, Any]] = {}
        skipped: dict[str, str] = {}
        for database in DATABASES:
            if args.render or args.db not in ("both", database):
                earlier = earlier_result(name, database, args.quick)
                if earlier:
                    results[database] = earlier
                continue
            if database == "sqlite":
                url = sqlite_url_for(name, args.quick)
            else:
                url = pg_url_for(name, args.quick)
                problem = postgres_answers(url)
                if problem:
                    skipped[database] = f"PostgreSQL did not answer: {problem}"
                    log(skipped[database])
                    continue
            result = run_one(script, database, url, args)
            result["command"] = command
            results[database] = result
            failed = failed or "error" in result
            suffix = "-quick" if args.quick else ""
            (OUT_DIR / f"{name}-{database}{suffix}.json").write_text(
                json.dumps({"machine": host, **result}, indent=1)
            )
        if args.render and not results:
            continue
        shown = f"`{command}`"
        if args.render:
            shown = " and ".join(sorted({f"`{r.get('command', '?')}`" for r in results.values()}))
        body, all_pass = render_section(name, results, skipped, shown, host)
        print(body)
        crashed = [COLUMN[db] for db, result in results.items() if "error" in result]
        if write and crashed:
            log(
                f"left the {name} section of {DOC.relative_to(ROOT)} as it was: the run on "
                f"{' and '.join(crashed)} failed (its output is above)"
            )
        elif write:
            write_section(name, body)
            log(f"wrote the {name} section of {DOC.relative_to(ROOT)}")
        failed = failed or (args.strict and not all_pass)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
