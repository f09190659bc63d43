"""Youth pages. Thin: selectors read (through the policy), services write."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from safeharbor.access.choices import Category
from safeharbor.access.policy import (
    can_create_youth,
    can_open_break_glass,
    can_view_access_log,
)
from safeharbor.access.services import break_glass_open
from safeharbor.accounts.http import AuthenticatedHttpRequest
from safeharbor.accounts.models import User
from safeharbor.audit.choices import AuditAction
from safeharbor.audit.selectors import audit_events_for_youth
from safeharbor.audit.services import record
from safeharbor.core.forms import add_service_errors

from . import rendering, selectors, services
from .choices import NoteKind
from .forms import (
    BreakGlassForm,
    CareTeamForm,
    ConsentForm,
    FindYouthForm,
    NoteForm,
    RevokeForm,
    YouthForm,
)
from .models import Youth
from .panels import panels_for


def _youth_worker(request: AuthenticatedHttpRequest) -> User:
    user = request.user
    if not user.works_with_youth_data:
        raise PermissionDenied
    return user


@login_required
def caseload(request: AuthenticatedHttpRequest) -> HttpResponse:
    actor = _youth_worker(request)
    scope = request.GET.get("scope", "mine")
    queryset = selectors.youth_list(actor=actor, only_my_caseload=scope != "all")
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    rows = selectors.youth_list_rows(actor=actor, youths=page, request=request)
    return render(request, "youth/caseload.html", {"page": page, "rows": rows, "scope": scope})


@login_required
def youth_detail(request: AuthenticatedHttpRequest, youth_id: uuid.UUID) -> HttpResponse:
    actor = _youth_worker(request)
    data = selectors.youth_record(actor=actor, youth_id=youth_id, request=request)
    context = {
        "r": data,
        "youth": data.youth,
        "show_identity": data.access.allows("view", Category.IDENTITY),
        "age_band": (
            data.youth.age_band(data.today).label
            if data.access.allows("view", Category.IDENTITY)
            else ""
        ),
        "can_manage": data.access.allows("change", Category.IDENTITY),
        "can_add_note": data.access.allows("change", Category.NOTES)
        or data.access.allows("change", Category.CLINICAL_NOTES),
        "can_view_access_log": can_view_access_log(actor, data.youth),
        "categories": [
            (label, data.access.allows("view", value)) for value, label in Category.choices
        ],
        "panels": panels_for(actor, data.youth, data.access, request),
    }
    return render(request, "youth/detail.html", context)


@login_required
def youth_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    actor = _youth_worker(request)
    membership = actor.agency_membership
    if membership is None or not can_create_youth(actor):
        raise PermissionDenied
    form = YouthForm(request.POST or None)
    duplicates = 0
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        duplicates = selectors.youth_possible_duplicates(
            actor=actor,
            request=request,
            given_name=data["given_name"],
            family_name=data["family_name"],
            date_of_birth=data["date_of_birth"],
        )
        if duplicates and not data["confirm_not_duplicate"]:
            form.add_error(
                None,
                _(
                    "A record may already exist for a youth with this name and date of birth. "
                    "Check before creating another; tick the box below if this is a "
                    "different youth."
                ),
            )
        else:
            fields = {k: v for k, v in data.items() if k != "confirm_not_duplicate"}
            try:
                youth = services.youth_create(
                    actor=actor, owning_agency=membership.agency, **fields
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Record created."))
                return redirect("youth:detail", youth_id=youth.pk)
    return render(request, "youth/form.html", {"form": form, "duplicates": duplicates})


@login_required
def consent_new(request: AuthenticatedHttpRequest, youth_id: uuid.UUID) -> HttpResponse:
    actor = _youth_worker(request)
    youth, access = selectors.youth_get(actor=actor, youth_id=youth_id)
    if not access.allows("change", Category.IDENTITY):
        raise Http404
    form = ConsentForm(
        request.POST or None, request.FILES or None, exclude_agency_id=youth.owning_agency_id
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        upload = data.pop("signed_form")
        try:
            services.consent_grant(
                actor=actor,
                youth=youth,
                **data,
                signed_form=upload.read() if upload else None,
                signed_form_name=upload.name if upload else "",
                signed_form_type=upload.content_type if upload else "",
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Consent recorded."))
            return redirect("youth:detail", youth_id=youth.pk)
    return render(request, "youth/consent_form.html", {"form": form, "youth": youth})


@login_required
def consent_revoke(
    request: AuthenticatedHttpRequest, youth_id: uuid.UUID, consent_id: int
) -> HttpResponse:
    actor = _youth_worker(request)
    youth, consent = selectors.consent_get(actor=actor, youth_id=youth_id, consent_id=consent_id)
    form = RevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_revoke(
                actor=actor, consent=consent, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Consent revoked."))
            return redirect("youth:detail", youth_id=youth.pk)
    return render(
        request, "youth/consent_revoke.html", {"form": form, "youth": youth, "consent": consent}
    )


@login_required
def consent_signed_form(
    request: AuthenticatedHttpRequest,
    youth_id: uuid.UUID,
    consent_id: int,
) -> HttpResponse:
    actor = _youth_worker(request)
    _youth, consent = selectors.consent_get(actor=actor, youth_id=youth_id, consent_id=consent_id)
    try:
        content = services.consent_signed_form_export(actor=actor, consent=consent)
    except ValidationError as exc:
        raise Http404 from exc
    response = HttpResponse(content, content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="consent-{consent.pk}"'
    return response


@login_required
def note_new(request: AuthenticatedHttpRequest, youth_id: uuid.UUID) -> HttpResponse:
    actor = _youth_worker(request)
    youth, access = selectors.youth_get(actor=actor, youth_id=youth_id)
    kinds: list[str] = [
        k
        for k, cat in (
            (NoteKind.GENERAL, Category.NOTES),
            (NoteKind.CLINICAL, Category.CLINICAL_NOTES),
        )
        if access.allows("change", cat)
    ]
    if not kinds:
        raise Http404
    form = NoteForm(request.POST or None, kinds=kinds)
    if request.method == "POST" and form.is_valid():
        try:
            services.note_add(actor=actor, youth=youth, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Note saved."))
            return redirect("youth:detail", youth_id=youth.pk)
    return render(request, "youth/note_form.html", {"form": form, "youth": youth})


@login_required
def care_team_new(request: AuthenticatedHttpRequest, youth_id: uuid.UUID) -> HttpResponse:
    actor = _youth_worker(request)
    youth, access = selectors.youth_get(actor=actor, youth_id=youth_id)
    if not access.allows("change", Category.IDENTITY):
        raise Http404
    users = (
        User.objects.filter(membership__is_active=True)
        .select_related("membership__agency")
        .order_by("last_name")
    )
    form = CareTeamForm(request.POST or None, users=users)
    if request.method == "POST" and form.is_valid():
        try:
            services.care_team_add(actor=actor, youth=youth, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Care team updated."))
            return redirect("youth:detail", youth_id=youth.pk)
    return render(request, "youth/care_team_form.html", {"form": form, "youth": youth})


@login_required
def access_log(request: AuthenticatedHttpRequest, youth_id: uuid.UUID) -> HttpResponse:
    actor = _youth_worker(request)
    youth, _access = selectors.youth_get(actor=actor, youth_id=youth_id)
    if not can_view_access_log(actor, youth):
        raise Http404
    rows = rendering.access_log_rows(audit_events_for_youth(youth_id=youth.pk))
    record(
        actor=actor,
        action=AuditAction.VIEW,
        object_type="audit.accesslog",
        object_id=youth.pk,
        youth_id=youth.pk,
        request=request,
    )
    return render(request, "youth/access_log.html", {"youth": youth, "rows": rows})


@login_required
def find_youth(request: AuthenticatedHttpRequest) -> HttpResponse:
    actor = _youth_worker(request)
    if not can_open_break_glass(actor):
        raise PermissionDenied
    form = FindYouthForm(request.GET or None)
    matches: list[Youth] | None = None
    visible_ids: set[uuid.UUID] = set()
    if form.is_valid():
        matches = selectors.youth_find_for_break_glass(
            actor=actor, request=request, **form.cleaned_data
        )
        visible_ids = set(
            selectors.youth_list(actor=actor, only_my_caseload=False)
            .filter(pk__in=[m.pk for m in matches])
            .values_list("pk", flat=True)
        )
    return render(
        request,
        "youth/find.html",
        {
            "form": form,
            "matches": matches,
            "visible_ids": visible_ids,
            "can_break_glass": can_open_break_glass(actor),
        },
    )


@login_required
def break_glass(request: AuthenticatedHttpRequest, youth_id: uuid.UUID) -> HttpResponse:
    """Ask for emergency access. Shows nothing about the youth before access is granted."""
    actor = _youth_worker(request)
    if not can_open_break_glass(actor):
        raise Http404
    form = BreakGlassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        youth = selectors.youth_for_break_glass(youth_id=youth_id)
        try:
            break_glass_open(actor=actor, youth=youth, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.warning(request, _("Break-glass access is open and will be reviewed."))
            return redirect("youth:detail", youth_id=youth.pk)
    return render(request, "youth/break_glass.html", {"form": form, "youth_id": youth_id})
