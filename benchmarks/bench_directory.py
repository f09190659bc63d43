"""Directory benchmark: search, the public finder and the HSDS API over a large synthetic
California directory, and the importer's throughput.

Targets (issue 4): a search with text, three filters and distance sort p95 at most 50 ms on
PostgreSQL and 100 ms on SQLite (at 1,000,000 services); import at least 5,000 services per
second; the public finder page p95 at most 100 ms.

Run through ``make bench`` (``benchmarks/run.py``), or alone:

    DATABASE_URL=sqlite:////tmp/bench-directory.sqlite3 \
        .venv/bin/python benchmarks/bench_directory.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_directory \
        .venv/bin/python benchmarks/bench_directory.py --services 100000

It prints one JSON object on stdout; progress goes to stderr.

The data: ``safeharbor.directory.demo.DirectoryGenerator`` (services of twelve kinds at real
California ZIP centroids, with schedules, languages, costs, ages, our taxonomy's features,
capacity, confidential shelters), loaded through the real importer (``importer.run``: JSON
parsing, schema validation with jsonschema_rs, conversion, reference checks, upserts, the search
index) in pages of 10,000 services. Import throughput is the importer's time only (generating
the objects is not counted). The database is reused while its fingerprint matches.

The search measured: ``search.search_services`` with a text word, free of cost, age 16, Spanish
spoken, within 25 miles of a big city's ZIP code centroid, nearest first, first page of 20, with
the total counted up to ``search.TOTAL_CAP`` as the workers' page and the finder count it
(docs/decisions/0013; the HSDS API row counts every match).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.common import (  # noqa: E402  (after the project root is on sys.path)
    database_exists,
    db_config,
    drop_and_create,
    read_meta,
    set_up_like_a_worker,
    summary,
    write_meta,
)

NAME = "directory"
TITLE = "Directory: search, public finder, HSDS API and import"
BUILD_VERSION = 1
SEED = 2026
DEFAULT_URL = "sqlite:////tmp/bench-directory.sqlite3"
FINGERPRINTED_FILES = (
    "safeharbor/directory/demo.py",
    "safeharbor/directory/importer.py",
    "safeharbor/directory/index.py",
    "safeharbor/directory/search.py",
    "safeharbor/directory/models.py",
)
TARGET_SEARCH_MS = {"postgresql": 50.0, "sqlite": 100.0}
TARGET_FINDER_MS = 100.0
TARGET_MS_PER_1000 = 200.0  # = 5,000 services per second
PAGE = 10_000
WORDS = ("shelter", "counseling", "clinic", "legal", "housing", "mentoring", "crisis", "food")
CITY_ZIPS = ("90012", "94103", "92101", "93721", "95814", "95112", "90802", "92701")


@dataclass(frozen=True)
class Scale:
    services: int
    requests: int
    warmup: int


FULL = Scale(services=100_000, requests=200, warmup=20)
QUICK = Scale(services=5_000, requests=40, warmup=5)


def log(message: str) -> None:
    print(f"[bench {NAME}] {message}", file=sys.stderr, flush=True)


def _fingerprint(scale: Scale) -> dict[str, Any]:
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    files = {
        name: hashlib.sha256((ROOT / name).read_bytes()).hexdigest()[:16]
        for name in FINGERPRINTED_FILES
    }
    return {
        "build_version": BUILD_VERSION,
        "seed": SEED,
        "services": scale.services,
        "files": files,
        "migrations": sorted(f"{a}.{n}" for a, n in loader.disk_migrations if a == NAME),
    }


def _cache_problem(scale: Scale) -> str | None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from safeharbor.directory.models import Service

    meta = read_meta()
    if meta is None:
        return "no build marker"
    if meta.get("fingerprint") != _fingerprint(scale):
        return "built by other code or at another scale"
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        return "unapplied migrations"
    if Service.objects.count() != scale.services:
        return "service count differs"
    return None


def build(scale: Scale) -> dict[str, Any]:
    """Generate and import the directory page by page; the importer's time is measured."""
    from safeharbor.directory import importer
    from safeharbor.directory.demo import DirectoryGenerator, as_source

    generator = DirectoryGenerator(SEED)
    import_seconds = generate_seconds = 0.0
    done = 0
    while done < scale.services:
        count = min(PAGE, scale.services - done)
        t0 = time.perf_counter()
        source = as_source([generator.service() for _ in range(count)], f"page-{done}.json")
        generate_seconds += time.perf_counter() - t0
        t0 = time.perf_counter()
        report = importer.run(json_sources=[(source, "service")])
        import_seconds += time.perf_counter() - t0
        if not report.ok:
            raise SystemExit(f"the generated directory did not import: {report.errors[:3]}")
        done += count
        log(f"  {done:,} services ({done / import_seconds:,.0f}/s importing)")
    return {
        "import_seconds": round(import_seconds, 1),
        "generate_seconds": round(generate_seconds, 1),
        "services_per_second": round(scale.services / import_seconds),
    }


def prepare_database(
    config: dict[str, Any], scale: Scale, rebuild: bool, keep: bool = False, optimize: bool = True
) -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import connection

    if keep:
        # Measure the database as it is (built by other code: e.g. a 1,000,000-service build
        # kept across a change of the search), once migrated; its build figures are old.
        call_command("migrate", verbosity=0, interactive=False)
        from safeharbor.directory.models import Service

        if Service.objects.count() != scale.services:
            raise SystemExit("--keep: the database does not hold that many services")
        meta = read_meta() or {}
        log(f"keeping the database built {meta.get('built_at')}")
        return {"cached": True, **{k: v for k, v in meta.items() if k != "fingerprint"}}
    if not rebuild and database_exists(config):
        problem = _cache_problem(scale)
        if problem is None and (read_meta() or {}).get("optimized", True) != optimize:
            problem = "built with or without optimize_directory, not as asked"
        if problem is None:
            meta = read_meta() or {}
            log(f"reusing the database built {meta.get('built_at')}")
            return {"cached": True, **{k: v for k, v in meta.items() if k != "fingerprint"}}
        log(f"rebuilding: {problem}")
    started = time.perf_counter()
    drop_and_create(config)
    call_command("migrate", verbosity=0, interactive=False)
    built = build(scale)
    from safeharbor.directory import index

    if optimize:
        t0 = time.perf_counter()
        index.optimize()  # what `manage.py optimize_directory` does after a large import
        built["optimize_seconds"] = round(time.perf_counter() - t0, 1)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    meta = {
        "fingerprint": _fingerprint(scale),
        "built_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "build_seconds": round(time.perf_counter() - started, 1),
        "optimized": optimize,
        **built,
    }
    write_meta(meta)
    return {"cached": False, **{k: v for k, v in meta.items() if k != "fingerprint"}}


def timed(call: Callable[[int], Any], n: int, warmup: int) -> tuple[list[float], list[Any]]:
    times, outputs = [], []
    for i in range(warmup + n):
        t0 = time.perf_counter()
        output = call(i)
        elapsed = (time.perf_counter() - t0) * 1000
        if i >= warmup:
            times.append(elapsed)
            outputs.append(output)
    return times, outputs


def measure(scale: Scale) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client

    from safeharbor.directory.search import TOTAL_CAP, Criteria, search_services, zip_centroid

    rng = random.Random(SEED + 1)
    combos = [(rng.choice(WORDS), rng.choice(CITY_ZIPS)) for _ in range(64)]
    set_up_like_a_worker()

    def criteria(i: int) -> Criteria:
        word, code = combos[i % len(combos)]
        return Criteria(
            text=word, free=True, age=16, language="es", near=zip_centroid(code), radius_miles=25
        )

    def run_search(i: int) -> int:
        return search_services(criteria(i), page=1, per_page=20, total_cap=TOTAL_CAP).total

    times, totals = timed(run_search, scale.requests, scale.warmup)
    results: dict[str, Any] = {
        "search": {**summary(times), "median_matches": sorted(totals)[len(totals) // 2]}
    }
    log(f"search: {results['search']}")

    def run_typo(i: int) -> int:
        word, code = combos[i % len(combos)]
        typo = word[:2] + word[3:] if len(word) > 5 else word
        typed = Criteria(text=typo, near=zip_centroid(code), radius_miles=25)
        return search_services(typed, total_cap=TOTAL_CAP).total

    times, _ = timed(run_typo, scale.requests, scale.warmup)
    results["search_typo"] = summary(times)
    log(f"search with a typo, distance only: {results['search_typo']}")

    client = Client()

    def finder(i: int) -> int:
        word, code = combos[i % len(combos)]
        response = client.get(f"/find/?q={word}&zip={code}&age=16&free=on&language=es")
        if response.status_code != 200:
            raise SystemExit(f"/find/ answered {response.status_code}")
        return 0

    times, _ = timed(finder, scale.requests, scale.warmup)
    results["finder"] = summary(times)
    log(f"finder page: {results['finder']}")

    def api(i: int) -> int:
        word, code = combos[i % len(combos)]
        response = client.get(
            f"/api/hsds/services?search={word}&postcode={code}&proximity=40000&per_page=20"
        )
        if response.status_code != 200:
            raise SystemExit(f"/api/hsds/services answered {response.status_code}")
        return 0

    times, _ = timed(api, scale.requests, scale.warmup)
    results["api"] = summary(times)
    log(f"HSDS API services: {results['api']}")
    results["vendor"] = connection.vendor
    return results


def database_facts(config: dict[str, Any]) -> dict[str, Any]:
    from django.db import connection

    from safeharbor.directory.models import Attribute, Location, Service

    services = Service.objects.count()
    locations = Location.objects.count()
    attributes = Attribute.objects.count()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT current_setting('server_version'), "
                "pg_database_size(current_database()), current_setting('shared_buffers')"
            )
            version, size, buffers = cursor.fetchone()
            version, settings_text = f"PostgreSQL {version}", f"shared_buffers={buffers}"
        else:
            cursor.execute("SELECT sqlite_version()")
            version = f"SQLite {cursor.fetchone()[0]}"
            size = sum(
                Path(config["NAME"] + s).stat().st_size
                for s in ("", "-wal")
                if Path(config["NAME"] + s).exists()
            )
            settings_text = "journal_mode=WAL, synchronous=NORMAL"
    return {
        "version": version,
        "settings": settings_text,
        "services": services,
        "size_mb": round(size / 2**20, 1),
        "summary": f"{services:,} services, {locations:,} locations, "
        f"{attributes:,} attributes, {round(size / 2**20):,} MB",
    }


def metrics(measured: dict[str, Any], build_info: dict[str, Any]) -> list[dict[str, Any]]:
    vendor = measured["vendor"]
    rows = []
    s = measured["search"]
    rows.append(
        {
            "key": "search",
            "label": "Search: text + free + age + language, within 25 miles, nearest first",
            "value": s["p95"],
            "unit": "ms",
            "stat": "p95",
            "target": TARGET_SEARCH_MS[vendor],
            "detail": (
                f"p50 {s['p50']}, max {s['max']}; median {s['median_matches']} matches"
                " (counted up to the cap)"
            ),
        }
    )
    t = measured["search_typo"]
    rows.append(
        {
            "key": "search_typo",
            "label": "Search: a misspelt word, within 25 miles",
            "value": t["p95"],
            "unit": "ms",
            "stat": "p95",
            "target": None,
            "detail": f"p50 {t['p50']}, max {t['max']}",
        }
    )
    f = measured["finder"]
    rows.append(
        {
            "key": "finder",
            "label": "Public finder page with that search",
            "value": f["p95"],
            "unit": "ms",
            "stat": "p95",
            "target": TARGET_FINDER_MS,
            "detail": f"p50 {f['p50']}, max {f['max']}",
        }
    )
    a = measured["api"]
    rows.append(
        {
            "key": "api",
            "label": "HSDS API /services?search&postcode&proximity",
            "value": a["p95"],
            "unit": "ms",
            "stat": "p95",
            "target": None,
            "detail": f"p50 {a['p50']}, max {a['max']}",
        }
    )
    per_second = build_info.get("services_per_second")
    if per_second:
        rows.append(
            {
                "key": "import",
                "label": "Import (JSON, validated) per 1,000 services",
                "value": round(1_000_000 / per_second, 1),
                "unit": "ms",
                "stat": "",
                "target": TARGET_MS_PER_1000,
                "detail": f"{per_second:,} services/s"
                + (", from the cached build" if build_info.get("cached") else ""),
            }
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small scale, for a smoke run")
    parser.add_argument("--rebuild", action="store_true", help="rebuild even if cached")
    parser.add_argument("--services", type=int, help="how many services (default 100,000)")
    parser.add_argument("--requests", type=int, help="requests per measurement")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="measure the database as it is (migrated), even if built by other code",
    )
    parser.add_argument(
        "--no-optimize",
        action="store_true",
        help="measure the directory as imported, without `optimize_directory` after the build",
    )
    args = parser.parse_args(argv)
    scale = QUICK if args.quick else FULL
    if args.services:
        scale = Scale(**{**asdict(scale), "services": args.services})
    if args.requests:
        scale = Scale(**{**asdict(scale), "requests": args.requests})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    url = os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    config = db_config(url)
    import django

    django.setup()
    started = time.perf_counter()
    build_info = prepare_database(
        config, scale, rebuild=args.rebuild, keep=args.keep, optimize=not args.no_optimize
    )
    facts = database_facts(config)
    log(f"{facts['version']}: {facts['summary']}")
    load_before = os.getloadavg()
    measured = measure(scale)
    load_after = os.getloadavg()
    result = {
        "benchmark": NAME,
        "title": TITLE,
        "quick": args.quick,
        "scale": asdict(scale),
        "database": facts,
        "build": build_info,
        "results": measured,
        "load_average": {
            "before": [round(x, 2) for x in load_before],
            "after": [round(x, 2) for x in load_after],
        },
        "total_seconds": round(time.perf_counter() - started, 1),
        "metrics": metrics(measured, build_info),
    }
    print(json.dumps(result, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
