"""Contact pages. Thin: selectors read (through the policy), services write."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from safeharbor.access.choices import Category
from safeharbor.accounts.choices import Role
from safeharbor.accounts.http import AuthenticatedHttpRequest
from safeharbor.accounts.models import User
from safeharbor.core.forms import add_service_errors

from . import attention, deadlines, selectors, services
from .calendar import feed_ical
from .choices import Channel, Outcome, ReportTo
from .forms import (
    CheckInForm,
    ContactPlanForm,
    ContactRuleForm,
    EpisodeCloseForm,
    EpisodeOpenForm,
    EpisodeUpdateForm,
    LocationAttemptForm,
    LogContactForm,
    NotificationPreferenceForm,
    ReportForm,
    ReturnInterviewForm,
    ScreeningRecordForm,
    local_now,
    method_formset,
)


def _worker(request: AuthenticatedHttpRequest) -> User:
    user = request.user
    if not user.works_with_youth_data:
        raise PermissionDenied
    return user


def _submit(form: Any, action: Any) -> bool:
    """Run ``action`` with the form's data; on a ValidationError put it on the form."""
    try:
        action(form.cleaned_data)
    except ValidationError as exc:
        add_service_errors(form, exc)
        return False
    return True


# --- Contact plan and log ------------------------------------------------------------------


def _channels_in_plan_order(plan: Any) -> list[tuple[str, Any]]:
    """The plan's ways first (in the youth's order), then the others."""
    labels = dict(Channel.choices)
    ordered: list[str] = []
    for method in plan.methods.all() if plan else []:
        if method.channel not in ordered:
            ordered.append(method.channel)
    ordered += [c for c in Channel.values if c not in ordered]
    return [(c, labels[c]) for c in ordered]


@login_required
def log_contact(request: AuthenticatedHttpRequest, youth_id: uuid.UUID) -> HttpResponse:
    """Big outcome buttons; the plan's first way is preselected, so one tap logs an attempt."""
    actor = _worker(request)
    data = selectors.contact_log(actor=actor, youth_id=youth_id, request=request)
    channels = _channels_in_plan_order(data.plan)
    form = LogContactForm(
        request.POST or None, channels=channels, initial={"channel": channels[0][0]}
    )
    if request.method == "POST" and form.is_valid():
        if _submit(
            form,
            lambda d: services.contact_attempt_log(
                actor=actor,
                youth=data.youth,
                channel=d["channel"],
                outcome=d["outcome"],
                attempted_at=d["attempted_at"],
                note=d["note"],
            ),
        ):
            messages.success(request, _("Contact attempt logged."))
            return redirect("youth:detail", youth_id=data.youth.pk)
    return render(
        request,
        "contact/log.html",
        {
            "form": form,
            "data": data,
            "youth": data.youth,
            "outcomes": Outcome.choices,
        },
    )


@login_required
def plan_edit(request: AuthenticatedHttpRequest, youth_id: uuid.UUID) -> HttpResponse:
    actor = _worker(request)
    youth, plan = selectors.contact_plan_for_edit(actor=actor, youth_id=youth_id, request=request)
    methods = [(m.channel, m.detail) for m in plan.methods.all()] if plan else []
    initial = (
        {
            "safe_times": plan.safe_times,
            "code_word": plan.code_word,
            "never_use": plan.never_use,
            "trusted_adults": plan.trusted_adults,
        }
        if plan
        else {}
    )
    form = ContactPlanForm(request.POST or None, initial=initial)
    formset = method_formset(request.POST or None, methods)
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            services.contact_plan_save(
                actor=actor, youth=youth, methods=formset.methods(), **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Contact plan saved."))
            return redirect("youth:detail", youth_id=youth.pk)
    return render(
        request, "contact/plan_form.html", {"form": form, "formset": formset, "youth": youth}
    )


@login_required
def check_in_new(request: AuthenticatedHttpRequest, youth_id: uuid.UUID) -> HttpResponse:
    actor = _worker(request)
    youth = selectors.youth_for_change(
        actor=actor, youth_id=youth_id, category=Category.CONTACT_PLAN
    )
    form = CheckInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if _submit(form, lambda d: services.check_in_schedule(actor=actor, youth=youth, **d)):
            messages.success(request, _("Check-in scheduled."))
            return redirect("youth:detail", youth_id=youth.pk)
    return render(request, "contact/check_in_form.html", {"form": form, "youth": youth})


@login_required
@require_POST
def check_in_cancel(
    request: AuthenticatedHttpRequest, youth_id: uuid.UUID, check_in_id: int
) -> HttpResponse:
    actor = _worker(request)
    check_in = selectors.check_in_get(actor=actor, youth_id=youth_id, check_in_id=check_in_id)
    try:
        services.check_in_cancel(actor=actor, check_in=check_in)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Check-in cancelled."))
    return redirect("youth:detail", youth_id=youth_id)


# --- Missing-from-care episodes ------------------------------------------------------------


@login_required
def episode_new(request: AuthenticatedHttpRequest, youth_id: uuid.UUID) -> HttpResponse:
    actor = _worker(request)
    youth = selectors.youth_for_change(
        actor=actor, youth_id=youth_id, category=Category.MISSING_EPISODES
    )
    now = local_now()
    form = EpisodeOpenForm(request.POST or None, initial={"started_at": now, "learned_at": now})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            episode = services.missing_episode_open(actor=actor, youth=youth, **data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.warning(
                request,
                _("Episode recorded. Report it to law enforcement and to NCMEC within 24 hours."),
            )
            return redirect("contact:episode", youth_id=youth.pk, episode_id=episode.pk)
    return render(request, "contact/episode_form.html", {"form": form, "youth": youth})


def _clock(due: Any, now: Any) -> dict[str, Any]:
    return {"due": due, "left": deadlines.format_remaining(due, now)}


@login_required
def episode_detail(
    request: AuthenticatedHttpRequest, youth_id: uuid.UUID, episode_id: int
) -> HttpResponse:
    actor = _worker(request)
    view = selectors.missing_episode_view(
        actor=actor, youth_id=youth_id, episode_id=episode_id, request=request
    )
    episode = view.episode
    report_due = deadlines.report_due(episode.learned_at)
    reports = [
        {
            "to": ReportTo.LAW_ENFORCEMENT,
            "label": ReportTo.LAW_ENFORCEMENT.label,
            "at": episode.reported_to_law_enforcement_at,
            "by": episode.reported_to_law_enforcement_by,
            "on_time": deadlines.report_met(
                episode.learned_at, episode.reported_to_law_enforcement_at
            ),
            "clock": _clock(report_due, view.now),
        },
        {
            "to": ReportTo.NCMEC,
            "label": ReportTo.NCMEC.label,
            "at": episode.reported_to_ncmec_at,
            "by": episode.reported_to_ncmec_by,
            "on_time": deadlines.report_met(episode.learned_at, episode.reported_to_ncmec_at),
            "clock": _clock(report_due, view.now),
        },
    ]
    last_location = view.location_attempts[0].attempted_at if view.location_attempts else None
    context = {
        "v": view,
        "youth": view.youth,
        "episode": episode,
        "reports": reports,
        "location_clock": (
            _clock(
                deadlines.location_attempt_due(episode.learned_at, last_location, view.rule),
                view.now,
            )
            if episode.is_open
            else None
        ),
        "screening_clock": (
            _clock(deadlines.return_screening_due(episode.ended_at), view.now)
            if episode.ended_at and not episode.return_screening_at
            else None
        ),
        "screening_url": attention.screening_app_url(view.youth.pk),
        "show_identity": view.access.allows("view", Category.IDENTITY),
    }
    return render(request, "contact/episode_detail.html", context)


def _episode_form_page(
    request: AuthenticatedHttpRequest,
    *,
    youth_id: uuid.UUID,
    episode_id: int,
    category: str,
    form_class: Any,
    initial: dict[str, Any],
    save: Any,
    title: str,
    done: str,
    form_kwargs: dict[str, Any] | None = None,
) -> HttpResponse:
    actor = _worker(request)
    episode = selectors.missing_episode_for_change(
        actor=actor, youth_id=youth_id, episode_id=episode_id, category=category
    )
    form = form_class(request.POST or None, initial=initial, **(form_kwargs or {}))
    if request.method == "POST" and form.is_valid():
        if _submit(form, lambda d: save(actor, episode, d)):
            messages.success(request, done)
            return redirect("contact:episode", youth_id=youth_id, episode_id=episode.pk)
    return render(
        request,
        "contact/episode_step_form.html",
        {"form": form, "youth": episode.youth, "episode": episode, "title": title},
    )


@login_required
def episode_edit(
    request: AuthenticatedHttpRequest, youth_id: uuid.UUID, episode_id: int
) -> HttpResponse:
    actor = _worker(request)
    episode = selectors.missing_episode_for_change(
        actor=actor, youth_id=youth_id, episode_id=episode_id, category=Category.MISSING_EPISODES
    )
    initial = {name: getattr(episode, name) for name in services.EPISODE_EDITABLE}
    if episode.last_seen_at:
        initial["last_seen_at"] = timezone.localtime(episode.last_seen_at)
    return _episode_form_page(
        request,
        youth_id=youth_id,
        episode_id=episode_id,
        category=Category.MISSING_EPISODES,
        form_class=EpisodeUpdateForm,
        initial=initial,
        save=lambda a, e, d: services.missing_episode_update(actor=a, episode=e, **d),
        title=_("What is known"),
        done=_("Episode updated."),
    )


@login_required
def episode_report(
    request: AuthenticatedHttpRequest, youth_id: uuid.UUID, episode_id: int, to: str
) -> HttpResponse:
    if to not in ReportTo.values:
        raise Http404
    return _episode_form_page(
        request,
        youth_id=youth_id,
        episode_id=episode_id,
        category=Category.MISSING_EPISODES,
        form_class=ReportForm,
        initial={"reported_at": local_now()},
        save=lambda a, e, d: services.missing_episode_report(actor=a, episode=e, to=to, **d),
        title=(
            _("Report to law enforcement")
            if to == ReportTo.LAW_ENFORCEMENT
            else _("Report to NCMEC")
        ),
        done=_("Report recorded."),
        form_kwargs={"to": to},
    )


@login_required
def location_new(
    request: AuthenticatedHttpRequest, youth_id: uuid.UUID, episode_id: int
) -> HttpResponse:
    return _episode_form_page(
        request,
        youth_id=youth_id,
        episode_id=episode_id,
        category=Category.MISSING_EPISODES,
        form_class=LocationAttemptForm,
        initial={"attempted_at": local_now()},
        save=lambda a, e, d: services.location_attempt_add(actor=a, episode=e, **d),
        title=_("Location attempt"),
        done=_("Location attempt recorded."),
    )


@login_required
def episode_close(
    request: AuthenticatedHttpRequest, youth_id: uuid.UUID, episode_id: int
) -> HttpResponse:
    return _episode_form_page(
        request,
        youth_id=youth_id,
        episode_id=episode_id,
        category=Category.MISSING_EPISODES,
        form_class=EpisodeCloseForm,
        initial={"ended_at": local_now()},
        save=lambda a, e, d: services.missing_episode_close(actor=a, episode=e, **d),
        title=_("The youth has returned"),
        done=_("Return recorded. A screening is due within 24 hours."),
    )


@login_required
def interview_new(
    request: AuthenticatedHttpRequest, youth_id: uuid.UUID, episode_id: int
) -> HttpResponse:
    return _episode_form_page(
        request,
        youth_id=youth_id,
        episode_id=episode_id,
        category=Category.NOTES,
        form_class=ReturnInterviewForm,
        initial={"interviewed_at": local_now()},
        save=lambda a, e, d: services.return_interview_record(actor=a, episode=e, **d),
        title=_("Return interview"),
        done=_("Return interview recorded."),
    )


@login_required
def screening_record(
    request: AuthenticatedHttpRequest, youth_id: uuid.UUID, episode_id: int
) -> HttpResponse:
    return _episode_form_page(
        request,
        youth_id=youth_id,
        episode_id=episode_id,
        category=Category.SCREENING,
        form_class=ScreeningRecordForm,
        initial={"screened_at": local_now()},
        save=lambda a, e, d: services.return_screening_record(actor=a, episode=e, **d),
        title=_("Screening after return"),
        done=_("Screening recorded."),
    )


# --- Needs attention today -----------------------------------------------------------------


def _attention(request: AuthenticatedHttpRequest, *, team: bool) -> HttpResponse:
    actor = _worker(request)
    if team and actor.role != Role.SUPERVISOR:
        raise PermissionDenied
    page = attention.attention_page(
        actor=actor, team=team, page_number=request.GET.get("page"), request=request
    )
    return render(
        request,
        "contact/attention.html",
        {
            "p": page,
            "is_supervisor": actor.role == Role.SUPERVISOR,
            "can_set_rules": actor.role in (Role.SUPERVISOR, Role.AGENCY_ADMIN),
            "unread": selectors.unread_count(actor=actor),
            "kinds": [
                (label, page.counts.by_kind.get(value, 0))
                for value, label in attention.kind_choices()
            ],
        },
    )


@login_required
def attention_mine(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _attention(request, team=False)


@login_required
def attention_team(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _attention(request, team=True)


# --- Notifications, calendar, rules --------------------------------------------------------


@login_required
def notifications(request: AuthenticatedHttpRequest) -> HttpResponse:
    actor = _worker(request)
    preference = selectors.notification_preference_for(actor=actor)
    form = NotificationPreferenceForm(
        request.POST or None,
        initial={
            "by_email": preference.by_email,
            "by_sms": preference.by_sms,
            "sms_number": preference.sms_number,
        },
    )
    if request.method == "POST" and form.is_valid():
        if _submit(form, lambda d: services.notification_preference_save(actor=actor, **d)):
            messages.success(request, _("Preferences saved."))
            return redirect("contact:notifications")
    return render(
        request,
        "contact/notifications.html",
        {"items": selectors.notifications_for(actor=actor), "form": form},
    )


@login_required
@require_POST
def notification_read(request: AuthenticatedHttpRequest, notification_id: int) -> HttpResponse:
    actor = _worker(request)
    notification = selectors.notification_get(actor=actor, notification_id=notification_id)
    services.notification_mark_read(actor=actor, notification=notification)
    return redirect(notification.url or reverse("contact:notifications"))


@login_required
def calendar(request: AuthenticatedHttpRequest) -> HttpResponse:
    actor = _worker(request)
    feed_url = ""
    if request.method == "POST":
        if request.POST.get("action") == "off":
            services.calendar_feed_delete(actor=actor)
            messages.success(request, _("Calendar link turned off."))
        else:
            token = services.calendar_feed_rotate(actor=actor)
            feed_url = request.build_absolute_uri(reverse("contact:calendar_feed", args=[token]))
    return render(
        request,
        "contact/calendar.html",
        {
            "check_ins": selectors.check_ins_for_worker(actor=actor, request=request),
            "feed_url": feed_url,
            "has_feed": hasattr(actor, "calendar_feed"),
        },
    )


def calendar_feed(request: Any, token: str) -> HttpResponse:
    """The iCalendar feed behind a secret link (calendar apps cannot log in or pass MFA).
    It carries record numbers and times only, never a name."""
    feed = selectors.calendar_feed(token=token, request=request)
    response = HttpResponse(feed_ical(feed), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="safe-harbor.ics"'
    response["Cache-Control"] = "no-store, private"
    return response


@login_required
def rules(request: AuthenticatedHttpRequest) -> HttpResponse:
    actor = _worker(request)
    membership = actor.agency_membership
    if membership is None or actor.role not in (Role.SUPERVISOR, Role.AGENCY_ADMIN):
        raise PermissionDenied
    rule = selectors.contact_rule_get(agency=membership.agency)
    form = ContactRuleForm(
        request.POST or None,
        initial={
            "lost_contact_days": rule.lost_contact_days,
            "stabilisation_hours": rule.stabilisation_hours,
            "location_attempt_days": rule.location_attempt_days,
        },
    )
    if request.method == "POST" and form.is_valid():
        if _submit(
            form,
            lambda d: services.contact_rule_set(actor=actor, agency=membership.agency, **d),
        ):
            messages.success(request, _("Rules saved."))
            return redirect("contact:rules")
    return render(request, "contact/rules.html", {"form": form, "agency": membership.agency})
