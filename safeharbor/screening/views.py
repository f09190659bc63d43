"""Screening pages. Thin: selectors read (through the policy, audited), services write."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from safeharbor.access.choices import Action, Category
from safeharbor.accounts.choices import Role
from safeharbor.accounts.http import AuthenticatedHttpRequest
from safeharbor.accounts.models import User
from safeharbor.core import clock
from safeharbor.core.forms import add_service_errors

from . import rendering, scoring, selectors, services
from .choices import LAW_ENFORCEMENT_REPORT_HOURS, TRIGGER_DUE_HOURS, ConcernLevel, TriggerKind
from .definition import Definition
from .forms import (
    AnswersForm,
    IdentificationForm,
    InstrumentUploadForm,
    ReportForm,
    RescreenIntervalForm,
    ReviewForm,
    ReviseForm,
    ScreeningStartForm,
    TriggerForm,
    local_now,
)
from .models import Screening

_MANAGERS = (Role.AGENCY_ADMIN, Role.SUPERVISOR)


def _worker(request: AuthenticatedHttpRequest) -> User:
    user = request.user
    if not user.works_with_youth_data:
        raise PermissionDenied
    return user


def _page_number(value: str | None) -> int:
    try:
        number = int(value or 1)
    except ValueError as exc:
        raise Http404 from exc
    if number < 1:
        raise Http404
    return number


# --------------------------------------------------------------------------- lists and instruments


@login_required
def due(request: AuthenticatedHttpRequest) -> HttpResponse:
    actor = _worker(request)
    if actor.role == Role.AGENCY_ADMIN:  # administrators see no screening data
        return redirect("screening:instruments")
    data = selectors.screenings_due(
        actor=actor,
        scope=request.GET.get("scope", "agency"),
        page=_page_number(request.GET.get("page")),
        request=request,
    )
    links = _DueLinks()
    return render(
        request,
        "screening/due.html",
        {
            "data": data,
            "is_supervisor": actor.role == Role.SUPERVISOR,
            "reports": rendering.due_rows(links.rows(data.reports)),
            "triggers": rendering.due_rows(links.rows(data.triggers)),
            "rescreens": [
                (section, rendering.due_rows(links.rows(section.rows)))
                for section in data.rescreens
            ],
        },
    )


@dataclass(frozen=True)
class DueLine:
    """A row of the due list, ready to show: its texts and its two links."""

    row: selectors.DueRow
    youth_url: str
    action_url: str
    action: str
    due: str
    status: str
    detail: str


class _DueLinks:
    """The due list's links and words, made once per page rather than for every row (a page
    of an agency's list has up to 150 rows)."""

    _ZERO = uuid.UUID(int=0)

    def __init__(self) -> None:
        self.youth = reverse("youth:detail", args=[self._ZERO])
        self.new = reverse("screening:new", args=[self._ZERO])
        self.report = reverse("screening:report_new", args=[self._ZERO, 0])
        self.words = {
            "overdue": _("Overdue"),
            "soon": _("Due soon"),
            "report": _("Record the report"),
            "screen": _("Start a screening"),
            "never": _("Never screened with this instrument"),
        }

    def _detail(self, row: selectors.DueRow) -> str:
        if row.deadline.label == "rescreen":
            if row.detail == "never":
                return self.words["never"]
            return _("Last screened %(when)s") % {"when": row.detail}
        if row.deadline.label == "law_enforcement_report":
            return ""
        return row.deadline.label

    def rows(self, rows: list[selectors.DueRow]) -> list[DueLine]:
        zero = str(self._ZERO)
        lines = []
        for row in rows:
            pk = str(row.youth.pk)
            if row.identification is not None:
                action_url = self.report.replace(zero, pk).replace(
                    "/0/", f"/{row.identification.pk}/"
                )
                action = self.words["report"]
            else:
                action_url = f"{self.new.replace(zero, pk)}?reason={row.reason}"
                action = self.words["screen"]
            lines.append(
                DueLine(
                    row=row,
                    youth_url=self.youth.replace(zero, pk),
                    action_url=action_url,
                    action=action,
                    due=timezone.localtime(row.deadline.due_at).strftime("%Y-%m-%d %H:%M"),
                    status=self.words["overdue" if row.deadline.overdue else "soon"],
                    detail=self._detail(row),
                )
            )
        return lines


@login_required
def instruments(request: AuthenticatedHttpRequest) -> HttpResponse:
    actor = _worker(request)
    intervals = selectors.rescreen_intervals(actor=actor)
    rows = [
        (instrument, intervals.get(instrument.url))
        for instrument in selectors.instruments_for_agency(actor=actor)
    ]
    return render(
        request,
        "screening/instruments.html",
        {
            "rows": rows,
            "can_import": actor.role == Role.AGENCY_ADMIN,
            "can_manage": actor.role in _MANAGERS,
        },
    )


@login_required
def instrument_upload(request: AuthenticatedHttpRequest) -> HttpResponse:
    actor = _worker(request)
    membership = actor.agency_membership
    if actor.role != Role.AGENCY_ADMIN or membership is None:
        raise PermissionDenied
    form = InstrumentUploadForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            document = json.loads(upload.read().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            problems = [_("The file is not JSON: %(error)s") % {"error": exc}]
        else:
            try:
                instrument = services.instrument_import(
                    actor=actor, document=document, agency=membership.agency, source=upload.name
                )
            except services.InstrumentInvalid as exc:
                problems = [str(problem) for problem in exc.problems]
            else:
                messages.success(
                    request, _("Instrument loaded: %(title)s.") % {"title": instrument.title}
                )
                return redirect("screening:instrument_detail", instrument_id=instrument.pk)
    return render(request, "screening/instrument_upload.html", {"form": form, "problems": problems})


@login_required
def instrument_detail(request: AuthenticatedHttpRequest, instrument_id: int) -> HttpResponse:
    actor = _worker(request)
    instrument = selectors.instrument_get(actor=actor, instrument_id=instrument_id)
    return render(
        request,
        "screening/instrument_detail.html",
        {
            "instrument": instrument,
            "definition": instrument.definition,
            "language": _ui_language(instrument.definition),
            "can_export": actor.role in _MANAGERS,
        },
    )


@login_required
def instrument_export(request: AuthenticatedHttpRequest, instrument_id: int) -> HttpResponse:
    actor = _worker(request)
    if actor.role not in _MANAGERS:
        raise PermissionDenied
    instrument = selectors.instrument_get(actor=actor, instrument_id=instrument_id)
    document = services.instrument_export(actor=actor, instrument=instrument)
    response = HttpResponse(
        json.dumps(document, indent=2, ensure_ascii=False), content_type="application/fhir+json"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{instrument.name}-{instrument.version}.json"'
    )
    return response


@login_required
@require_POST
def interval_set(request: AuthenticatedHttpRequest) -> HttpResponse:
    actor = _worker(request)
    if actor.role not in _MANAGERS:
        raise PermissionDenied
    form = RescreenIntervalForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a number of days from 1 to 3650, or leave it empty."))
        return redirect("screening:instruments")
    try:
        services.rescreen_interval_set(
            actor=actor,
            instrument_url=form.cleaned_data["instrument_url"],
            days=form.cleaned_data["days"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Rescreen interval saved."))
    return redirect("screening:instruments")


# --------------------------------------------------------------------------- administering


def _ui_language(definition: Definition) -> str:
    """The page's language where the instrument has it, else its base language (English)."""
    language = (get_language() or "en")[:2]
    return language if language in definition.languages else definition.languages[0]


@login_required
def screening_new(request: AuthenticatedHttpRequest, youth_id: uuid.UUID) -> HttpResponse:
    actor = _worker(request)
    youth, access = selectors.screening_youth(actor=actor, youth_id=youth_id, action=Action.CHANGE)
    usable = selectors.instruments_usable(actor=actor)
    initial: dict[str, Any] = {"reason": request.GET.get("reason", "")}
    if access.allows(Action.VIEW, Category.IDENTITY) and youth.preferred_language == "es":
        initial["language"] = "es"
    if len(usable) == 1:
        initial["instrument"] = usable[0]
    form = ScreeningStartForm(request.POST or None, instruments=usable, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            screening = services.screening_start(actor=actor, youth=youth, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect("screening:step", youth_id=youth.pk, screening_id=screening.pk, step=1)
    return render(
        request,
        "screening/new.html",
        {"form": form, "youth": youth, "instruments": usable},
    )


def _enabled_steps(definition: Definition, answers: dict[str, str]) -> list[int]:
    """The 1-based numbers of the domains that are on."""
    on = scoring.enabled_link_ids(definition, answers)
    return [n for n, domain in enumerate(definition.domains, 1) if domain.link_id in on]


def _step_url(screening: Screening, steps: list[int], wanted: int) -> str:
    if wanted in steps:
        return reverse(
            "screening:step",
            kwargs={"youth_id": screening.youth_id, "screening_id": screening.pk, "step": wanted},
        )
    return reverse(
        "screening:finish", kwargs={"youth_id": screening.youth_id, "screening_id": screening.pk}
    )


@login_required
def screening_step(
    request: AuthenticatedHttpRequest, youth_id: uuid.UUID, screening_id: int, step: int
) -> HttpResponse:
    actor = _worker(request)
    view = selectors.screening_get(
        actor=actor,
        youth_id=youth_id,
        screening_id=screening_id,
        action=Action.CHANGE,
        request=request,
    )
    screening = view.screening
    if screening.is_completed:
        return redirect("screening:detail", youth_id=youth_id, screening_id=screening.pk)
    definition = screening.instrument.definition
    if not 1 <= step <= len(definition.domains):
        raise Http404
    answers = screening.answers
    steps = _enabled_steps(definition, answers)
    if step not in steps:  # skipped by the answers so far: go on to the next step that is on
        return redirect(_step_url(screening, steps, next((n for n in steps if n > step), 0)))
    domain = definition.domains[step - 1]
    on = scoring.enabled_link_ids(definition, answers)
    items = [item for item in domain.items if item.link_id in on]
    form = AnswersForm(
        request.POST or None, items=items, language=screening.language, initial_answers=answers
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.screening_save_answers(
                actor=actor, screening=screening, answers=form.answers()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _after_step(request, screening, definition, step, on)
    return render(
        request,
        "screening/step.html",
        {
            "youth": view.youth,
            "screening": screening,
            "definition": definition,
            "domain": domain,
            "domain_text": domain.text.in_language(screening.language),
            "form": form,
            "entries": form.entries(),
            "position": steps.index(step) + 1,
            "total": len(steps),
            "is_first": steps[0] == step,
        },
    )


def _after_step(
    request: AuthenticatedHttpRequest,
    screening: Screening,
    definition: Definition,
    step: int,
    was_on: set[str],
) -> HttpResponse:
    answers = screening.answers
    on = scoring.enabled_link_ids(definition, answers)
    domain = definition.domains[step - 1]
    appeared = [
        item
        for item in domain.items
        if item.is_question and item.link_id in on and item.link_id not in was_on
    ]
    if appeared:
        messages.info(request, _("Your answers opened more questions on this step."))
        return redirect(request.path)
    steps = _enabled_steps(definition, answers)
    go = request.POST.get("go", "next")
    if go == "leave":
        messages.success(request, _("Draft saved. You can continue it from the youth's page."))
        return redirect("youth:detail", youth_id=screening.youth_id)
    if go == "back":
        earlier = [n for n in steps if n < step]
        if earlier:
            return redirect(_step_url(screening, steps, earlier[-1]))
        return redirect(request.path)
    return redirect(_step_url(screening, steps, next((n for n in steps if n > step), 0)))


@login_required
def screening_finish(
    request: AuthenticatedHttpRequest, youth_id: uuid.UUID, screening_id: int
) -> HttpResponse:
    actor = _worker(request)
    view = selectors.screening_get(
        actor=actor,
        youth_id=youth_id,
        screening_id=screening_id,
        action=Action.CHANGE,
        request=request,
    )
    screening = view.screening
    if screening.is_completed:
        return redirect("screening:detail", youth_id=youth_id, screening_id=screening.pk)
    definition = screening.instrument.definition
    errors: list[str] = []
    if request.method == "POST":
        try:
            services.screening_complete(actor=actor, screening=screening)
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, _("Screening finished."))
            return redirect("screening:detail", youth_id=youth_id, screening_id=screening.pk)
    answers = screening.answers
    result = scoring.score(definition, answers)
    steps = _enabled_steps(definition, answers)
    step_of = {domain.link_id: n for n, domain in enumerate(definition.domains, 1)}
    missing = [
        (
            item.text.in_language(screening.language),
            _step_url(screening, steps, step_of[item.domain]),
        )
        for item in definition.questions
        if item.link_id in result.unanswered
    ]
    return render(
        request,
        "screening/finish.html",
        {
            "youth": view.youth,
            "screening": screening,
            "definition": definition,
            "missing": missing,
            "errors": errors,
            "last_step_url": _step_url(screening, steps, steps[-1] if steps else 0),
        },
    )


@login_required
def screening_detail(
    request: AuthenticatedHttpRequest, youth_id: uuid.UUID, screening_id: int
) -> HttpResponse:
    actor = _worker(request)
    view = selectors.screening_get(
        actor=actor, youth_id=youth_id, screening_id=screening_id, request=request
    )
    screening = view.screening
    definition = screening.instrument.definition
    language = _ui_language(definition)
    can_change = view.access.allows(Action.CHANGE, Category.SCREENING)
    result = scoring.score(definition, screening.answers)
    now = clock.now()
    context = {
        "youth": view.youth,
        "screening": screening,
        "instrument": screening.instrument,
        "definition": definition,
        "language": language,
        "caution": definition.information.caution.in_language(language),
        "endorsed": [_text(definition, link_id, language) for link_id in result.endorsed],
        "unknown": [
            _text(definition, link_id, language) for link_id in result.not_enough_information
        ],
        "domains": [
            (_domain_text(definition, d.link_id, language), d) for d in result.domains if d.enabled
        ],
        "concern": screening.level in (ConcernLevel.POSSIBLE_CONCERN, ConcernLevel.CLEAR_CONCERN),
        "can_change": can_change,
        "locked": screening.is_locked(now),
        "amended_by": list(screening.amendments.all()),
        "report_hours": LAW_ENFORCEMENT_REPORT_HOURS,
        "review_form": ReviewForm(
            initial={
                "override_level": screening.override_level,
                "override_reason": screening.override_reason,
                "next_action": screening.next_action,
                "next_action_note": screening.next_action_note,
            }
        ),
    }
    return render(request, "screening/detail.html", context)


def _text(definition: Definition, link_id: str, language: str) -> str:
    item = definition.item(link_id)
    return item.text.in_language(language) if item else link_id


def _domain_text(definition: Definition, link_id: str, language: str) -> str:
    domain = definition.domain_of(link_id)
    return domain.text.in_language(language) if domain else link_id


@login_required
def screening_review(
    request: AuthenticatedHttpRequest, youth_id: uuid.UUID, screening_id: int
) -> HttpResponse:
    actor = _worker(request)
    view = selectors.screening_get(
        actor=actor,
        youth_id=youth_id,
        screening_id=screening_id,
        action=Action.CHANGE,
        request=request,
    )
    screening = view.screening
    form = ReviewForm(
        request.POST or None,
        initial={
            "override_level": screening.override_level,
            "override_reason": screening.override_reason,
            "next_action": screening.next_action,
            "next_action_note": screening.next_action_note,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.screening_review(actor=actor, screening=screening, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Your judgement and the next action are saved."))
            return redirect("screening:detail", youth_id=youth_id, screening_id=screening.pk)
    return render(
        request,
        "screening/review.html",
        {"form": form, "youth": view.youth, "screening": screening},
    )


@login_required
def screening_revise(
    request: AuthenticatedHttpRequest, youth_id: uuid.UUID, screening_id: int
) -> HttpResponse:
    """Correct the answers in the edit window; amend (a new screening) once it is locked."""
    actor = _worker(request)
    view = selectors.screening_get(
        actor=actor,
        youth_id=youth_id,
        screening_id=screening_id,
        action=Action.CHANGE,
        request=request,
    )
    screening = view.screening
    if not screening.is_completed:
        return redirect("screening:step", youth_id=youth_id, screening_id=screening.pk, step=1)
    definition = screening.instrument.definition
    amending = screening.is_locked(clock.now())
    current = screening.answers
    if request.method == "POST":
        # Skip logic follows what was just chosen, so newly opened questions are shown.
        current = {
            item.link_id: request.POST["a_" + item.link_id]
            for item in definition.questions
            if request.POST.get("a_" + item.link_id)
        }
    on = scoring.enabled_link_ids(definition, current)
    items = [item for item in definition.items if item.link_id in on and item.domain in on]
    form = ReviseForm(
        request.POST or None,
        items=items,
        language=screening.language,
        initial_answers=screening.answers,
        require_all=True,
        amending=amending,
        initial={
            "override_level": screening.override_level,
            "override_reason": screening.override_reason,
            "next_action": screening.next_action,
            "next_action_note": screening.next_action_note,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            if amending:
                saved = services.screening_amend(
                    actor=actor,
                    screening=screening,
                    answers=form.answers(),
                    reason=form.cleaned_data["reason"],
                    **form.review(),
                )
                messages.success(request, _("Amendment saved. The original is kept unchanged."))
            else:
                saved = services.screening_correct(
                    actor=actor, screening=screening, answers=form.answers()
                )
                messages.success(request, _("Answers corrected and scored again."))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect("screening:detail", youth_id=youth_id, screening_id=saved.pk)
    entries = form.entries()
    sections = [
        (
            domain.text.in_language(screening.language),
            [e for e in entries if e.item.domain == domain.link_id],
        )
        for domain in definition.domains
        if domain.link_id in on
    ]
    return render(
        request,
        "screening/revise.html",
        {
            "form": form,
            "youth": view.youth,
            "screening": screening,
            "definition": definition,
            "sections": sections,
            "amending": amending,
        },
    )


@login_required
@require_POST
def screening_discard(
    request: AuthenticatedHttpRequest, youth_id: uuid.UUID, screening_id: int
) -> HttpResponse:
    actor = _worker(request)
    view = selectors.screening_get(
        actor=actor,
        youth_id=youth_id,
        screening_id=screening_id,
        action=Action.CHANGE,
        request=request,
    )
    try:
        services.screening_discard(actor=actor, screening=view.screening)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("screening:detail", youth_id=youth_id, screening_id=screening_id)
    messages.success(request, _("Draft discarded."))
    return redirect("youth:detail", youth_id=youth_id)


# --------------------------------------------------------------------------- deadlines


@login_required
def trigger_new(request: AuthenticatedHttpRequest, youth_id: uuid.UUID) -> HttpResponse:
    actor = _worker(request)
    youth, _access = selectors.screening_youth(actor=actor, youth_id=youth_id, action=Action.CHANGE)
    form = TriggerForm(request.POST or None, initial={"occurred_at": local_now()})
    if request.method == "POST" and form.is_valid():
        try:
            trigger = services.trigger_record(actor=actor, youth=youth, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            hours = TRIGGER_DUE_HOURS[TriggerKind(trigger.kind)]
            messages.success(
                request,
                _("Recorded. A screen is due within %(hours)s hours of it.") % {"hours": hours},
            )
            return redirect("youth:detail", youth_id=youth.pk)
    return render(request, "screening/trigger_form.html", {"form": form, "youth": youth})


@login_required
def identification_new(request: AuthenticatedHttpRequest, youth_id: uuid.UUID) -> HttpResponse:
    actor = _worker(request)
    youth, _access = selectors.screening_youth(actor=actor, youth_id=youth_id, action=Action.CHANGE)
    screening = None
    screening_id = request.GET.get("screening") or request.POST.get("screening")
    if screening_id:
        screening = selectors.screening_get(
            actor=actor,
            youth_id=youth_id,
            screening_id=_page_number(screening_id),
            action=Action.CHANGE,
            request=request,
        ).screening
    form = IdentificationForm(request.POST or None, initial={"identified_at": local_now()})
    if request.method == "POST" and form.is_valid():
        try:
            services.victim_identification_record(
                actor=actor, youth=youth, screening=screening, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.warning(
                request,
                _("Recorded. The report to law enforcement is due within %(hours)s hours.")
                % {"hours": LAW_ENFORCEMENT_REPORT_HOURS},
            )
            return redirect("youth:detail", youth_id=youth.pk)
    return render(
        request,
        "screening/identification_form.html",
        {"form": form, "youth": youth, "screening": screening},
    )


@login_required
def report_new(
    request: AuthenticatedHttpRequest, youth_id: uuid.UUID, identification_id: int
) -> HttpResponse:
    actor = _worker(request)
    youth, identification = selectors.identification_get(
        actor=actor, youth_id=youth_id, identification_id=identification_id, request=request
    )
    form = ReportForm(request.POST or None, initial={"reported_at": local_now()})
    if request.method == "POST" and form.is_valid():
        try:
            services.law_enforcement_report_record(
                actor=actor, identification=identification, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Report to law enforcement recorded."))
            return redirect("youth:detail", youth_id=youth.pk)
    deadline = selectors.report_deadline(identification, clock.now())
    return render(
        request,
        "screening/report_form.html",
        {"form": form, "youth": youth, "identification": identification, "deadline": deadline},
    )
