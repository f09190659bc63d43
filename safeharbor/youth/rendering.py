"""HTML for long tables, made in Python. "Who accessed this record" shows up to 200 events: the
template engine spent about two thirds of the page's time resolving their 1,200 variables and
date filters; ``format_html_join`` escapes the same values in a fraction of that."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from safeharbor.audit.choices import AuditAction
from safeharbor.audit.models import AuditEvent

_ROW = "<tr><td>{}</td><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td></tr>"


def access_log_rows(events: Iterable[AuditEvent]) -> SafeString:
    """The table rows of "who accessed this record", each value escaped."""
    # Each label translated once, not per row (get_action_display rebuilds them all per call).
    labels = {value: str(label) for value, label in AuditAction.choices}
    return format_html_join(
        "",
        _ROW,
        (
            (
                timezone.localtime(event.at).strftime("%Y-%m-%d %H:%M:%S"),
                event.actor_label,
                labels.get(event.action, event.action),
                event.object_type,
                event.category,
                event.reason,
            )
            for event in events
        ),
    )
