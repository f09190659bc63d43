"""One helper decides between a full page and an htmx fragment."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def render_page_or_fragment(
    request: HttpRequest, page: str, fragment: str, context: dict[str, Any]
) -> HttpResponse:
    """Render ``fragment`` for htmx requests (the part being swapped), ``page`` otherwise."""
    template = fragment if getattr(request, "htmx", False) else page
    return render(request, template, context)
