"""Where the foundation benchmark's time goes: per-query timings, query plans, template costs.

Run after ``bench_foundation.py`` has built its database (it reuses it and changes nothing but
the audit events and sessions that requests write):

    DATABASE_URL=sqlite:////tmp/bench-foundation.sqlite3 \
        .venv/bin/python benchmarks/diagnose_foundation.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_foundation \
        .venv/bin/python benchmarks/diagnose_foundation.py

Not run by ``make bench``; its output is for reading, not for docs/performance.md.
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def queries_of(client: Any, url: str) -> None:
    from django.db import connection

    client.get(url)  # warm
    spans: list[tuple[float, str]] = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spans.append(((time.perf_counter() - t0) * 1000, sql))

    with connection.execute_wrapper(wrapper):
        t0 = time.perf_counter()
        client.get(url)
        total = (time.perf_counter() - t0) * 1000
    sql_ms = sum(t for t, _ in spans)
    print(
        f"\n== GET {url}: {total:.1f} ms, {len(spans)} statements, {sql_ms:.1f} ms in them, "
        f"{total - sql_ms:.1f} ms elsewhere (Python, commits)"
    )
    for elapsed, sql in spans:
        print(f"  {elapsed:6.2f} ms  {' '.join(sql.split())[:140]}")


def explain(title: str, queryset: Any) -> None:
    from django.db import connection

    print(f"\n== EXPLAIN {title}")
    options = {"analyze": True, "buffers": True} if connection.vendor == "postgresql" else {}
    print(queryset.explain(**options))


def template_costs(youth_id: Any) -> None:
    """The access-log rows: get_action_display against a label looked up once per request."""
    from django.template import Context, Template
    from django.utils import translation

    from safeharbor.audit.choices import AuditAction
    from safeharbor.audit.selectors import audit_events_for_youth

    translation.activate("en")
    events = list(audit_events_for_youth(youth_id=youth_id))
    row = (
        '<tr><td>{{ e.at|date:"Y-m-d H:i:s" }}</td><td>{{ e.actor_label }}</td><td>%s '
        "{{ e.object_type }}</td><td>{{ e.category }}</td><td>{{ e.reason }}</td></tr>"
    )
    as_is = Template("{% for e in events %}" + row % "{{ e.get_action_display }}" + "{% endfor %}")
    looked_up = Template("{% for e in events %}" + row % "{{ e.action_label }}" + "{% endfor %}")
    labels = dict(AuditAction.choices)

    def best_of(func: Any, rounds: int = 7) -> float:
        times = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            func()
            times.append((time.perf_counter() - t0) * 1000)
        return min(times)

    def with_labels() -> None:
        names = {value: str(label) for value, label in labels.items()}
        for event in events:
            event.action_label = names.get(event.action, event.action)
        looked_up.render(Context({"events": events}))

    n = len(events)
    print(f"\n== access-log rows ({n} events), best of 7")
    print(
        f"  {n} x get_action_display():            "
        f"{best_of(lambda: [e.get_action_display() for e in events]):6.2f} ms"
    )
    print(
        f"  rows rendered with get_action_display: "
        f"{best_of(lambda: as_is.render(Context({'events': events}))):6.2f} ms"
    )
    print(f"  rows rendered with labels looked up:   {best_of(with_labels):6.2f} ms")


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    import bench_foundation as bench
    from django.db import connection

    from safeharbor.audit.models import AuditEvent
    from safeharbor.audit.selectors import audit_events_for_youth
    from safeharbor.youth.selectors import youth_list

    meta = bench._read_meta() or {}
    subjects = bench.pick_subjects(random.Random(bench.SEED + 1), meta.get("busy_youth", []))
    cw = bench.verified_client(subjects.caseworker)
    sup = bench.verified_client(subjects.supervisor)
    print(
        f"{connection.vendor}: caseworker {subjects.caseworker.username} "
        f"({subjects.caseload_shown} listed of {len(subjects.caseload_youth)} on the team), "
        f"supervisor {subjects.supervisor.username}"
    )
    queries_of(cw, "/youth/")
    queries_of(cw, "/youth/?scope=all")
    queries_of(cw, f"/youth/?scope=all&page={subjects.agency_pages}")
    queries_of(cw, f"/youth/{subjects.caseload_youth[0]}/")
    queries_of(sup, f"/youth/{subjects.agency_youth[0]}/access-log/")
    if subjects.busy_youth:
        queries_of(sup, f"/youth/{subjects.busy_youth[0]}/access-log/")
    explain("caseload, my youth", youth_list(actor=subjects.caseworker)[:50])
    every = youth_list(actor=subjects.caseworker, only_my_caseload=False)
    explain("caseload, all: the paginator's count", every.values("pk").order_by())
    explain("caseload, all: the last page", every[(subjects.agency_pages - 1) * 50 :][:50])
    busy = subjects.busy_youth[0] if subjects.busy_youth else subjects.agency_youth[0]
    explain("who accessed this record (busy youth)", audit_events_for_youth(youth_id=busy))
    count = AuditEvent.objects.filter(youth_id=busy).count()
    print(f"\n(busy youth has {count} events)")
    template_costs(busy)


if __name__ == "__main__":
    main()
