"""Outcomes pages. Thin: selectors read (through the policy), services write.

The youth's pages (enrol, exit, record a service or an outcome, the timeline) are for workers
with a youth-data role; the program pages for the agency's supervisors, administrators and
analysts (analysts read counts only, and never reach a youth).
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from safeharbor.access.policy import (
    can_manage_programs,
    can_view_county_figures,
    can_view_program_figures,
)
from safeharbor.accounts.http import AuthenticatedHttpRequest
from safeharbor.accounts.models import User
from safeharbor.core import clock
from safeharbor.core.forms import add_service_errors

from . import charts, selectors, services
from .definitions import definitions_html
from .formatting import figure_row
from .forms import (
    EnrolmentForm,
    ExitForm,
    FundingForm,
    MeasureChoiceForm,
    ObservationForm,
    ProgramForm,
    ServiceForm,
)
from .report_views import PeriodForm


def _worker(request: AuthenticatedHttpRequest) -> User:
    user = request.user
    if not user.works_with_youth_data:
        raise PermissionDenied
    return user


def _to_youth_page(youth_id: uuid.UUID) -> HttpResponse:
    return redirect(reverse("youth:detail", args=[youth_id]) + "#outcomes-h")


def _youth_form_page(
    request: AuthenticatedHttpRequest, youth: Any, form: Any, **context: Any
) -> HttpResponse:
    context.update(youth=youth, form=form, cancel_url=reverse("youth:detail", args=[youth.pk]))
    return render(request, "outcomes/youth_form.html", context)


# --- A youth's services and outcomes -------------------------------------------------------


@login_required
def enrol(request: AuthenticatedHttpRequest, youth_id: uuid.UUID) -> HttpResponse:
    actor = _worker(request)
    youth = selectors.youth_for_services(actor=actor, youth_id=youth_id)
    programs = selectors.enrolment_programs(actor=actor)
    form = EnrolmentForm(
        request.POST or None, programs=programs, initial={"starts_on": clock.today()}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            enrolment = services.enrolment_start(
                actor=actor,
                youth=youth,
                program=data["program"],
                starts_on=data["starts_on"],
                referral_source=data["referral_source"],
                trafficking_type=data["trafficking_type"],
                has_disability=data["has_disability"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, _("Enrolled in %(program)s.") % {"program": enrolment.program.name}
            )
            return _to_youth_page(youth.pk)
    return _youth_form_page(
        request,
        youth,
        form,
        title=_("Enrol in a program"),
        submit=_("Enrol"),
        intro=(
            ""
            if programs.exists()
            else _(
                "Your agency has no programs yet. A supervisor or an administrator sets them "
                "up under Programs."
            )
        ),
    )


@login_required
def exit_enrolment(
    request: AuthenticatedHttpRequest, youth_id: uuid.UUID, enrolment_id: int
) -> HttpResponse:
    actor = _worker(request)
    enrolment = selectors.enrolment_for_exit(
        actor=actor, youth_id=youth_id, enrolment_id=enrolment_id, request=request
    )
    form = ExitForm(request.POST or None, initial={"ends_on": clock.today()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.enrolment_exit(
                actor=actor,
                enrolment=enrolment,
                ends_on=data["ends_on"],
                exit_reason=data["exit_reason"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Recorded leaving %(program)s.") % {"program": enrolment.program.name},
            )
            return _to_youth_page(enrolment.youth_id)
    return _youth_form_page(
        request,
        enrolment.youth,
        form,
        title=_("Leaving %(program)s") % {"program": enrolment.program.name},
        submit=_("Record leaving"),
        intro=_("Enrolled on %(day)s.") % {"day": enrolment.starts_on.isoformat()},
    )


@login_required
def service_new(request: AuthenticatedHttpRequest, youth_id: uuid.UUID) -> HttpResponse:
    actor = _worker(request)
    youth = selectors.youth_for_services(actor=actor, youth_id=youth_id)
    form = ServiceForm(
        request.POST or None,
        programs=selectors.service_programs(actor=actor, youth=youth),
        initial={"delivered_on": clock.today()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            delivery = services.service_record(
                actor=actor,
                youth=youth,
                service_type=data["service_type"],
                delivered_on=data["delivered_on"],
                minutes=data["minutes"],
                mode=data["mode"],
                program=data["program"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Recorded: %(service)s.") % {"service": delivery.get_service_type_display()},
            )
            return _to_youth_page(youth.pk)
    return _youth_form_page(
        request, youth, form, title=_("Record a service"), submit=_("Record the service")
    )


@login_required
def observation_new(request: AuthenticatedHttpRequest, youth_id: uuid.UUID) -> HttpResponse:
    """Step 1 (GET): choose the measure; step 2: its value, in the input that fits its kind."""
    actor = _worker(request)
    youth = selectors.youth_for_services(actor=actor, youth_id=youth_id)
    chooser = MeasureChoiceForm(
        request.GET if "measure" in request.GET else None,
        measures=selectors.outcome_measures(),
    )
    measure = chooser.cleaned_data["measure"] if chooser.is_valid() else None
    form = None
    status = 200
    if measure is not None:
        form = ObservationForm(
            request.POST or None, measure=measure, initial={"observed_on": clock.today()}
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                services.observation_record(
                    actor=actor,
                    youth=youth,
                    measure=measure,
                    observed_on=data["observed_on"],
                    value=data["value"],
                    note=data["note"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Recorded: %(measure)s.") % {"measure": measure.name})
                return _to_youth_page(youth.pk)
    elif request.method == "POST":
        status = 400  # a value without its measure: nothing to record it against
    return render(
        request,
        "outcomes/observation_form.html",
        {
            "youth": youth,
            "chooser": chooser,
            "measure": measure,
            "form": form,
            "cancel_url": reverse("youth:detail", args=[youth.pk]),
        },
        status=status,
    )


@login_required
def timeline(request: AuthenticatedHttpRequest, youth_id: uuid.UUID) -> HttpResponse:
    actor = _worker(request)
    data = selectors.youth_timeline(actor=actor, youth_id=youth_id, request=request)
    return render(request, "outcomes/timeline.html", {"t": data, "youth": data.youth})


# --- Programs ------------------------------------------------------------------------------


@login_required
def programs(request: AuthenticatedHttpRequest) -> HttpResponse:
    actor = request.user
    rows = selectors.programs_for(actor=actor)
    return render(
        request,
        "outcomes/programs.html",
        {"rows": rows, "can_manage": can_manage_programs(actor, actor.agency_id_or_none)},
    )


@login_required
def program_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    actor = request.user
    if not can_manage_programs(actor, actor.agency_id_or_none):
        raise PermissionDenied
    form = ProgramForm(request.POST or None, initial={"starts_on": clock.today()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            program = services.program_create(
                actor=actor,
                name=data["name"],
                kind=data["kind"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                description=data["description"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Program created."))
            return redirect("outcomes:program", program_id=program.pk)
    return render(
        request,
        "outcomes/program_form.html",
        {
            "form": form,
            "title": _("New program"),
            "submit": _("Create the program"),
            "cancel_url": reverse("outcomes:programs"),
        },
    )


@login_required
def program_detail(request: AuthenticatedHttpRequest, program_id: int) -> HttpResponse:
    page = selectors.program_get(actor=request.user, program_id=program_id)
    return render(request, "outcomes/program.html", {"page": page})


@login_required
def funding_new(request: AuthenticatedHttpRequest, program_id: int) -> HttpResponse:
    actor = request.user
    program = selectors.program_for_change(actor=actor, program_id=program_id)
    form = FundingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.funding_add(
                actor=actor,
                program=program,
                funder=data["funder"],
                kind=data["kind"],
                award_number=data["award_number"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Funding added."))
            return redirect("outcomes:program", program_id=program.pk)
    return render(
        request,
        "outcomes/program_form.html",
        {
            "form": form,
            "title": _("Add funding to %(program)s") % {"program": program.name},
            "submit": _("Add the funding"),
            "cancel_url": reverse("outcomes:program", args=[program.pk]),
        },
    )


# --- The program dashboard and how its figures are computed --------------------------------


def _retention_chart(figures: list[Any]) -> str:
    curve = next((f.curve for f in figures if f.curve), ())
    if not curve:
        return ""
    chart = charts.step_chart(
        [(p.day, p.survival, p.low, p.high) for p in curve],
        title=_("Engagement retention"),
        x_label=_("days since enrolment"),
        y_label=_("still engaged"),
        line_label=_("Kaplan-Meier estimate"),
        band_label=_("Interval (95 %)"),
    )
    return charts.to_svg(chart)


@login_required
def program_dashboard(request: AuthenticatedHttpRequest, program_id: int) -> HttpResponse:
    """A program's effectiveness and services for a period (a year to today by default)."""
    actor = request.user
    today = clock.today()
    # The last twelve months, today included.
    initial = {
        "start": today - datetime.timedelta(days=364),
        "end": today,
    }
    form = PeriodForm(request.GET if "start" in request.GET else None, initial=initial)
    period = (initial["start"], initial["end"])
    status = 200
    if form.is_bound:
        if form.is_valid():
            period = (form.cleaned_data["start"], form.cleaned_data["end"])
        else:
            status = 400
    dashboard = None
    if status == 200:
        try:
            dashboard = selectors.program_dashboard(
                actor=actor, program_id=program_id, start=period[0], end=period[1], request=request
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
            status = 400
    if dashboard is None:
        # The form again, with the message; the program must still be one the actor may see.
        program = selectors.program_get(actor=actor, program_id=program_id).figures.program
        return render(
            request, "outcomes/dashboard.html", {"form": form, "program": program}, status=status
        )
    return render(
        request,
        "outcomes/dashboard.html",
        {
            "form": form,
            "program": dashboard.program,
            "d": dashboard,
            "rows": [figure_row(f) for f in dashboard.figures],
            "retention_svg": mark_safe(_retention_chart(dashboard.figures)),  # noqa: S308  (our SVG)
            "curve": next((f.curve for f in dashboard.figures if f.curve), ()),
        },
    )


@login_required
def definitions(request: AuthenticatedHttpRequest) -> HttpResponse:
    """How each figure is computed (docs/outcomes.md), for anyone who may see figures."""
    actor = request.user
    if not (
        can_view_program_figures(actor, actor.agency_id_or_none) or can_view_county_figures(actor)
    ):
        raise PermissionDenied
    return render(
        request,
        "outcomes/definitions.html",
        {"body": mark_safe(definitions_html())},  # noqa: S308  (our own documentation)
    )
