"""Template helpers for the screening pages."""

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_BREAK_AFTER = re.compile(r"([/|.\-_?=&])")


@register.filter
def breakable(value: object) -> SafeString:
    """Escape ``value`` and let long URLs wrap (a ``<wbr>`` after / | . - _ ? = &), so a phone
    never scrolls sideways for a canonical URL or a citation."""
    escaped = str(escape(str(value)))
    # The escaped text holds "&amp;" and the like; break only outside those entities.
    parts = re.split(r"(&[a-z#0-9]+;)", escaped)
    return mark_safe(  # noqa: S308  (every part was escaped above)
        "".join(
            part
            if part.startswith("&") and part.endswith(";")
            else _BREAK_AFTER.sub(r"\1<wbr>", part)
            for part in parts
        )
    )
