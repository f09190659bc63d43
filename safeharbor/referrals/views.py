"""Referral pages. Thin: selectors read (through the policy), services write."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from safeharbor.access.choices import Action, Category
from safeharbor.access.policy import can_answer_referrals
from safeharbor.accounts.choices import Role
from safeharbor.accounts.http import AuthenticatedHttpRequest
from safeharbor.accounts.models import User
from safeharbor.core.forms import add_service_errors
from safeharbor.directory import search, taxonomy
from safeharbor.directory.selectors import service_get
from safeharbor.youth.selectors import youth_get

from . import selectors, services
from .forms import MoveForm, ReferralForm, ServiceSearchForm

SEARCH_PAGE_SIZE = 20


def _worker(request: AuthenticatedHttpRequest) -> User:
    user = request.user
    if not user.works_with_youth_data:
        raise PermissionDenied
    return user


def _youth_to_refer(actor: User, youth_id: uuid.UUID) -> Any:
    youth, access = youth_get(actor=actor, youth_id=youth_id)
    if not access.allows(Action.CHANGE, Category.REFERRALS):
        raise PermissionDenied
    return youth


def _default_callback(actor: User) -> str:
    membership = actor.agency_membership
    parts = [actor.get_full_name() or actor.username]
    if membership is not None:
        parts.append(str(membership.agency))
    if actor.email:
        parts.append(actor.email)
    return ", ".join(parts)


@login_required
def new_referral(request: AuthenticatedHttpRequest, youth_id: uuid.UUID) -> HttpResponse:
    """Step 1: find the service (directory search by words and need)."""
    actor = _worker(request)
    youth = _youth_to_refer(actor, youth_id)
    form = ServiceSearchForm(request.GET or None)
    results = None
    if form.is_valid() and (form.cleaned_data["q"] or form.cleaned_data["need"]):
        need = form.cleaned_data["need"]
        criteria = search.Criteria(
            text=form.cleaned_data["q"], need=taxonomy.term_id(need) if need else None
        )
        results = search.search_services(criteria, per_page=SEARCH_PAGE_SIZE)
    return render(request, "referrals/new.html", {"youth": youth, "form": form, "results": results})


@login_required
def new_referral_to(
    request: AuthenticatedHttpRequest, youth_id: uuid.UUID, service_id: uuid.UUID
) -> HttpResponse:
    """Step 2: what the youth needs, how urgent, a note; send now or keep a draft."""
    actor = _worker(request)
    youth = _youth_to_refer(actor, youth_id)
    service = service_get(service_id=service_id)
    initial = {"callback": _default_callback(actor), "need": request.GET.get("need", "")}
    form = ReferralForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            referral = services.referral_create(
                actor=actor,
                youth=youth,
                service=service,
                need=data["need"],
                priority=data["priority"],
                note=data["note"],
                callback=data["callback"],
                send="save_draft" not in request.POST,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Referral sent.") if referral.sent_at else _("Referral saved as a draft."),
            )
            return redirect("referrals:detail", referral_id=referral.pk)
    return render(
        request,
        "referrals/form.html",
        {"youth": youth, "service": service, "form": form},
    )


@login_required
def detail(request: AuthenticatedHttpRequest, referral_id: uuid.UUID) -> HttpResponse:
    actor = _worker(request)
    view = selectors.referral_detail(actor=actor, referral_id=referral_id, request=request)
    form = MoveForm(moves=view.moves) if view.moves else None
    return render(request, "referrals/detail.html", {"v": view, "form": form})


@login_required
@require_POST
def move(request: AuthenticatedHttpRequest, referral_id: uuid.UUID) -> HttpResponse:
    actor = _worker(request)
    referral = selectors.referral_for_change(actor=actor, referral_id=referral_id)
    view = selectors.referral_detail(actor=actor, referral_id=referral.pk, request=request)
    form = MoveForm(request.POST, moves=view.moves)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.referral_move(
                actor=actor,
                referral=referral,
                to_status=data["status"],
                reason=data["reason"],
                outcome=data["outcome"],
                note=data["note"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Referral updated."))
            return redirect("referrals:detail", referral_id=referral.pk)
    return render(request, "referrals/detail.html", {"v": view, "form": form}, status=400)


@login_required
def print_summary(request: AuthenticatedHttpRequest, referral_id: uuid.UUID) -> HttpResponse:
    """A page to print or fax for a service that is not on the platform: the de-identified
    core and how to reach the referring worker; names are added by hand, with consent."""
    actor = _worker(request)
    view = selectors.referral_detail(actor=actor, referral_id=referral_id, request=request)
    if not view.is_referrer:
        raise Http404
    return render(request, "referrals/print.html", {"v": view})


@login_required
def inbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    actor = _worker(request)
    if not can_answer_referrals(actor, actor.agency_id_or_none):
        raise PermissionDenied
    state = request.GET.get("state", "open")
    if state not in selectors.INBOX_STATES:
        state = "open"
    data = selectors.inbox(
        actor=actor, state=state, page_number=request.GET.get("page", 1), request=request
    )
    return render(request, "referrals/inbox.html", {"data": data, "states": _inbox_states()})


def _inbox_states() -> list[tuple[str, str]]:
    return [
        ("open", pgettext("referral list", "Open")),
        ("closed", pgettext("referral list", "Closed")),
        ("all", pgettext("referral list", "All")),
    ]


@login_required
def sent(request: AuthenticatedHttpRequest) -> HttpResponse:
    actor = _worker(request)
    scope = request.GET.get("scope", "mine")
    if scope not in selectors.SENT_SCOPES:
        scope = "mine"
    data = selectors.sent(
        actor=actor, scope=scope, page_number=request.GET.get("page", 1), request=request
    )
    return render(
        request,
        "referrals/sent.html",
        {
            "data": data,
            "is_supervisor": actor.role == Role.SUPERVISOR,
            "can_answer": can_answer_referrals(actor, actor.agency_id_or_none),
        },
    )
