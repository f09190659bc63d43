"""HTML for the due list's rows, built in Python: a page of an agency's list has up to 150 rows,
and their template loop was most of the page's CPU. Every value is escaped here (the standard
library's ``html.escape``, which also escapes quotes, as Django's ``escape`` does)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _


def due_rows(lines: Sequence[Any]) -> SafeString:
    """The rows of one table of the due list (``views.DueLine``s, their texts translated);
    empty (false in a template's ``if``) when there are none."""
    if not lines:
        return mark_safe("")
    withheld = f'<span class="withheld">{escape(_("Name not shared with your agency"))}</span>'
    out = ["\n"]
    for line in lines:
        row = line.row
        name = escape(row.display_name) if row.display_name else withheld
        detail = f'<br><span class="help">{escape(line.detail)}</span>' if line.detail else ""
        status = escape(line.status)
        if row.deadline.overdue:
            status = f"<strong>{status}</strong>"
        action = f'<a href="{escape(line.action_url)}">{escape(line.action)}</a>'
        out.append(
            f'<tr>\n  <td><a href="{escape(line.youth_url)}">{name}</a> '
            f'<span class="badge">{escape(row.youth.record_number)}</span>{detail}</td>\n'
            f"  <td>{escape(line.due)}</td>\n"
            f"  <td>{status}<br>{action}</td>\n"
            "</tr>\n"
        )
    return mark_safe("".join(out))  # noqa: S308  (every value escaped above)
