"""Directory pages: the public resource finder (/find/) and the workers' pages (/directory/).

The finder is for youth themselves. It needs no login and keeps nothing: no session, no CSRF
cookie (its form is a GET form), no language cookie (the language is a ``lang`` parameter), no
analytics, no log of what was searched; its responses are ``no-store`` and send no referrer.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from safeharbor.accounts.http import AuthenticatedHttpRequest
from safeharbor.core.forms import add_service_errors

from . import search, selectors, services, taxonomy
from .forms import CapacityForm, SearchForm, ServiceForm

PER_PAGE = 20
DEFAULT_QUICK_EXIT_URL = "https://www.weather.gov/"
CRISIS_LINES = (
    # (name, what to do, tel: link or "", sms: link or "")
    ("National Human Trafficking Hotline", "1-888-373-7888", "tel:+18883737888", ""),
    ("National Human Trafficking Hotline", "233733", "", "sms:233733"),
    ("988 Suicide & Crisis Lifeline", "988", "tel:988", "sms:988"),
)


def _page_number(request: HttpRequest) -> int:
    try:
        return max(1, min(int(request.GET.get("page", "1")), 10_000))
    except ValueError:
        return 1


def _finder_language(request: HttpRequest) -> str:
    wanted = request.GET.get("lang", "")
    available = {code for code, _name in settings.LANGUAGES}
    return wanted if wanted in available else translation.get_language() or "en"


def _private(response: HttpResponse) -> HttpResponse:
    add_never_cache_headers(response)
    response["Referrer-Policy"] = "no-referrer"
    return response


def _feature_labels(service: Any, attributes: list[Any]) -> list[Any]:
    codes = {a.taxonomy_term_id for a in attributes}
    return [t.label for t in taxonomy.FEATURES if t.id in codes]


def _finder_context(request: HttpRequest, lang: str) -> dict[str, Any]:
    others = [(code, name) for code, name in settings.LANGUAGES if code != lang]
    query = request.GET.copy()
    switch = []
    for code, name in others:
        query["lang"] = code
        query.pop("page", None)
        switch.append((code, name, query.urlencode()))
    return {
        "lang": lang,
        "language_links": switch,
        "quick_exit_url": getattr(settings, "SAFEHARBOR_QUICK_EXIT_URL", DEFAULT_QUICK_EXIT_URL),
        "crisis_lines": CRISIS_LINES,
    }


def finder(request: HttpRequest) -> HttpResponse:
    """The public resource finder."""
    lang = _finder_language(request)
    with translation.override(lang):
        form = SearchForm(request.GET or None)
        results = None
        if form.is_bound and form.is_valid() and form.has_criteria():
            results = search.search_services(
                form.criteria(),
                page=_page_number(request),
                per_page=PER_PAGE,
                total_cap=search.TOTAL_CAP,
            )
        query = request.GET.copy()
        query.pop("page", None)
        context = {
            "form": form,
            "results": results,
            "query": query.urlencode(),
            **_finder_context(request, lang),
        }
        response = render(request, "directory/finder.html", context)
    return _private(response)


def finder_service(request: HttpRequest, service_id: uuid.UUID) -> HttpResponse:
    """One service, publicly: never a confidential location's address."""
    lang = _finder_language(request)
    with translation.override(lang):
        service = selectors.service_get(service_id=service_id)
        attributes = selectors.service_attributes(service)
        context = {
            "service": service,
            "locations": selectors.public_locations(service),
            "features": _feature_labels(service, attributes),
            "days": selectors.days_since_update(service),
            **_finder_context(request, lang),
        }
        response = render(request, "directory/finder_service.html", context)
    return _private(response)


@login_required
def search_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The workers' search, with facet counts."""
    form = SearchForm(request.GET or None)
    results = None
    if form.is_bound and form.is_valid() and form.has_criteria():
        results = search.search_services(
            form.criteria(),
            page=_page_number(request),
            per_page=PER_PAGE,
            with_facets=True,
            total_cap=search.TOTAL_CAP,
        )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "directory/search.html",
        {
            "form": form,
            "results": results,
            "query": query.urlencode(),
            "editable": selectors.services_editable_by(request.user).exists(),
            "facet_limit": f"{search.FACET_LIMIT:,}",
        },
    )


@login_required
def service_page(request: AuthenticatedHttpRequest, service_id: uuid.UUID) -> HttpResponse:
    service = selectors.service_get(service_id=service_id, public=False)
    attributes = selectors.service_attributes(service)
    return render(
        request,
        "directory/service_detail.html",
        {
            "service": service,
            "locations": selectors.public_locations(service),
            "attributes": attributes,
            "features": _feature_labels(service, attributes),
            "days": selectors.days_since_update(service),
            "can_edit": selectors.can_edit_service(request.user, service),
        },
    )


@login_required
def my_services(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The services an agency administrator keeps up to date."""
    rows = [
        (service, selectors.days_since_update(service))
        for service in selectors.services_editable_by(request.user)
    ]
    if not rows:  # not an administrator of an agency linked to an organisation
        raise PermissionDenied
    return render(request, "directory/my_services.html", {"rows": rows})


def _editable(request: AuthenticatedHttpRequest, service_id: uuid.UUID) -> Any:
    service = selectors.service_get(service_id=service_id, public=False)
    if not selectors.can_edit_service(request.user, service):
        raise PermissionDenied
    return service


@login_required
def service_edit(request: AuthenticatedHttpRequest, service_id: uuid.UUID) -> HttpResponse:
    service = _editable(request, service_id)
    original = {name: getattr(service, name) for name in services.EDITABLE_FIELDS}
    form = ServiceForm(request.POST or None, instance=service)
    if request.method == "POST" and form.is_valid():
        changes = {
            name: value for name, value in form.cleaned_data.items() if value != original[name]
        }
        for name, value in original.items():  # the form wrote onto the instance; undo
            setattr(service, name, value)
        try:
            services.service_update(actor=request.user, service=service, **changes)
        except ValidationError as exc:
            add_service_errors(cast(forms.Form, form), exc)
        else:
            messages.success(request, _("Service updated."))
            return redirect("directory:service", service_id=service.pk)
    return render(request, "directory/service_form.html", {"form": form, "service": service})


@login_required
def capacity_edit(request: AuthenticatedHttpRequest, service_id: uuid.UUID) -> HttpResponse:
    service = _editable(request, service_id)
    capacity = getattr(service, "capacity", None)
    initial = (
        {"available": capacity.available, "maximum": capacity.maximum, "unit": capacity.unit}
        if capacity
        else {"unit": _("beds")}
    )
    form = CapacityForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.capacity_update(actor=request.user, service=service, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Capacity updated."))
            return redirect("directory:service", service_id=service.pk)
    return render(request, "directory/capacity_form.html", {"form": form, "service": service})
