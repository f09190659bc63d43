"""REST API for closed-loop referrals. Same selectors, services and policy as the pages.

What a response shows of the youth follows the selector's decision for each read: the name and
record number only where the policy shares identity, the note only where it shares referrals
(for the receiving agency: a live consent naming it). Without that, the receiving agency gets
the de-identified core and the referring worker's callback, never null-valued guesses.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from safeharbor.access.policy import can_answer_referrals
from safeharbor.accounts.http import request_user
from safeharbor.accounts.models import User
from safeharbor.core import clock
from safeharbor.directory.selectors import service_get
from safeharbor.youth.api import (
    _AUTH_ERRORS,
    _AUTHENTICATION,
    ErrorSerializer,
    StrictPageNumberPagination,
    _single_query_value,
)
from safeharbor.youth.choices import AgeBand, GenderIdentity, Language

from . import selectors, services
from .choices import NEED_CHOICES, Outcome, Priority, Status
from .models import MAX_REASON, Referral, ReferralEvent
from .workflow import Side

_YOUTH_NOT_FOUND = {
    404: OpenApiResponse(
        ErrorSerializer,
        description="No such youth, one the caller may not see, or one whose referrals the "
        "caller may not see: the same answer for all (also for a page that does not exist).",
    ),
}
_REFERRAL_NOT_FOUND = {
    404: OpenApiResponse(
        ErrorSerializer,
        description="No such referral, or one the caller has no side of (neither the youth's "
        "worker nor the receiving agency): the same answer for both.",
    ),
}


def _name(user: User) -> str:
    return user.get_full_name() or user.username


# --- Output --------------------------------------------------------------------------------


class ReferralRowSerializer(serializers.Serializer):
    """A referral in a list. ``youth_id``, ``display_name`` and ``record_number`` are null
    where the policy does not share the youth's identity with the caller."""

    id = serializers.UUIDField(source="referral.pk")
    youth_id = serializers.SerializerMethodField()
    display_name = serializers.CharField(source="youth_name", allow_null=True)
    record_number = serializers.SerializerMethodField()
    service_name = serializers.CharField(source="referral.service_name")
    organization_name = serializers.CharField(source="referral.organization_name")
    referring_agency = serializers.CharField(source="referral.referring_agency.name")
    need = serializers.ChoiceField(NEED_CHOICES, source="referral.need")
    priority = serializers.ChoiceField(Priority.choices, source="referral.priority")
    status = serializers.ChoiceField(Status.choices, source="referral.status")
    outcome = serializers.ChoiceField(
        Outcome.choices, source="referral.outcome", allow_blank=True, help_text="Empty while open."
    )
    created_at = serializers.DateTimeField(source="referral.created_at")
    sent_at = serializers.DateTimeField(
        source="referral.sent_at", allow_null=True, help_text="Null for a draft."
    )
    closed_at = serializers.DateTimeField(source="referral.closed_at", allow_null=True)
    matched_within_48_hours = serializers.BooleanField(
        source="matched",
        allow_null=True,
        help_text="Accepted within 48 hours of being sent; null while it still may be, and for "
        "drafts.",
    )
    follow_up_due = serializers.DateTimeField(
        allow_null=True,
        help_text="When the referring side must chase an answer or an outcome; null for drafts "
        "and closed referrals.",
    )
    waiting_too_long = serializers.BooleanField()
    outcome_unseen = serializers.BooleanField(
        help_text="The service recorded an outcome the referring side has not looked at yet."
    )

    def get_youth_id(self, row: selectors.Row) -> uuid.UUID | None:
        return row.referral.youth_id if row.youth_name is not None else None

    def get_record_number(self, row: selectors.Row) -> str | None:
        return row.referral.youth.record_number if row.youth_name is not None else None


class ReferralYouthSerializer(serializers.Serializer):
    """What the caller learns of the youth. The age band, gender, language and county always
    (enough to judge eligibility, not to name them); the rest only with identity shared."""

    id = serializers.UUIDField(allow_null=True)
    display_name = serializers.CharField(allow_null=True)
    record_number = serializers.CharField(allow_null=True)
    age_band = serializers.ChoiceField(AgeBand.choices)
    gender_identity = serializers.ChoiceField(
        GenderIdentity.choices, allow_blank=True, help_text="Empty when not recorded."
    )
    preferred_language = serializers.ChoiceField(Language.choices)
    county = serializers.CharField()


class ReferralEventSerializer(serializers.Serializer):
    """One step of the history. ``note`` is null where the note is not shared with the caller."""

    at = serializers.DateTimeField()
    from_status = serializers.ChoiceField(
        Status.choices, allow_blank=True, help_text="Empty for the step that created it."
    )
    to_status = serializers.ChoiceField(Status.choices)
    actor = serializers.CharField()
    agency = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)
    outcome = serializers.ChoiceField(Outcome.choices, allow_blank=True)
    note = serializers.CharField(allow_null=True, allow_blank=True)


class ReferralSerializer(serializers.Serializer):
    """One referral as the caller may see it (``selectors.referral_detail``).

    ``note`` and ``outcome_note`` are null unless the policy shares the note (``note_shared``);
    the youth's name and record number are null unless it shares identity (``identity_shared``).
    """

    id = serializers.UUIDField()
    status = serializers.ChoiceField(Status.choices)
    status_reason = serializers.CharField(allow_blank=True)
    outcome = serializers.ChoiceField(
        Outcome.choices, allow_blank=True, help_text="Empty while open."
    )
    outcome_note = serializers.CharField(allow_null=True, allow_blank=True)
    need = serializers.ChoiceField(NEED_CHOICES)
    priority = serializers.ChoiceField(Priority.choices)
    note = serializers.CharField(allow_null=True, allow_blank=True)
    callback = serializers.CharField(help_text="How the service reaches the referring worker.")
    service_id = serializers.UUIDField(
        allow_null=True, help_text="Null once the directory no longer lists the service."
    )
    service_name = serializers.CharField()
    organization_name = serializers.CharField()
    on_platform = serializers.BooleanField(
        help_text="The service answers in Safe Harbor; if not, the referring worker records "
        "its answers."
    )
    referring_agency = serializers.CharField()
    referred_by = serializers.CharField()
    receiving_agency = serializers.CharField(allow_null=True)
    youth = ReferralYouthSerializer()
    identity_shared = serializers.BooleanField()
    note_shared = serializers.BooleanField()
    sides = serializers.ListField(
        child=serializers.ChoiceField([side.value for side in Side]),
        help_text="How the caller relates to the referral: the youth's worker, the receiving "
        "agency, or both.",
    )
    moves = serializers.ListField(
        child=serializers.ChoiceField(Status.choices),
        help_text="The statuses the caller may move the referral to now.",
    )
    created_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True, help_text="Null for a draft.")
    accepted_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    matched_within_48_hours = serializers.BooleanField(
        allow_null=True,
        help_text="Accepted within 48 hours of being sent; null while it still may be, and for "
        "drafts.",
    )
    follow_up_due = serializers.DateTimeField(allow_null=True)
    waiting_too_long = serializers.BooleanField()
    history = ReferralEventSerializer(many=True)


def _event(event: ReferralEvent, show_note: bool) -> dict[str, Any]:
    return {
        "at": event.at,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "actor": _name(event.actor),
        "agency": event.actor_agency.name,
        "reason": event.reason,
        "outcome": event.outcome,
        "note": event.note if show_note else None,
    }


def _referral(view: selectors.ReferralView) -> dict[str, Any]:
    """The selector's decision, field by field: nothing withheld leaves this function."""
    referral: Referral = view.referral
    youth = referral.youth
    identity, show_note = view.show_identity, view.show_note
    return {
        "id": referral.pk,
        "status": referral.status,
        "status_reason": referral.status_reason,
        "outcome": referral.outcome,
        "outcome_note": referral.outcome_note if show_note else None,
        "need": referral.need,
        "priority": referral.priority,
        "note": referral.note if show_note else None,
        "callback": referral.callback,
        "service_id": referral.service_id,
        "service_name": referral.service_name,
        "organization_name": referral.organization_name,
        "on_platform": referral.on_platform,
        "referring_agency": referral.referring_agency.name,
        "referred_by": _name(referral.created_by),
        "receiving_agency": (
            referral.receiving_agency.name if referral.receiving_agency is not None else None
        ),
        "youth": {
            "id": youth.pk if identity else None,
            "display_name": youth.display_name if identity else None,
            "record_number": youth.record_number if identity else None,
            "age_band": youth.age_band(clock.today()),
            "gender_identity": youth.gender_identity,
            "preferred_language": youth.preferred_language,
            "county": youth.county,
        },
        "identity_shared": identity,
        "note_shared": show_note,
        "sides": sorted(view.sides),
        "moves": [value for value in Status.values if value in view.moves],
        "created_at": referral.created_at,
        "sent_at": referral.sent_at,
        "accepted_at": referral.accepted_at,
        "closed_at": referral.closed_at,
        "matched_within_48_hours": view.matched,
        "follow_up_due": view.follow_up_due,
        "waiting_too_long": view.waiting_too_long,
        "history": [_event(event, show_note) for event in view.history],
    }


def _detail_response(
    request: Request, referral_id: uuid.UUID, code: int = status.HTTP_200_OK
) -> Response:
    view = selectors.referral_detail(
        actor=request_user(request), referral_id=referral_id, request=request
    )
    return Response(ReferralSerializer(_referral(view)).data, status=code)


# --- Input ---------------------------------------------------------------------------------


class ReferralInputSerializer(serializers.Serializer):
    service_id = serializers.UUIDField(help_text="An active service of the directory.")
    need = serializers.ChoiceField(NEED_CHOICES)
    priority = serializers.ChoiceField(Priority.choices, required=False, default=Priority.ROUTINE)
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=services.MAX_NOTE,
        help_text="The service sees it only while the youth's consent lets its agency see "
        "referrals: without that consent, leave out anything that identifies the youth.",
    )
    callback = serializers.CharField(
        max_length=services.MAX_CALLBACK,
        help_text="How the service reaches the referring worker: never the youth's details.",
    )
    send = serializers.BooleanField(
        required=False, default=True, help_text="False keeps the referral as a draft."
    )


class ReferralErrorSerializer(serializers.Serializer):
    service_id = serializers.ListField(child=serializers.CharField(), required=False)
    need = serializers.ListField(child=serializers.CharField(), required=False)
    priority = serializers.ListField(child=serializers.CharField(), required=False)
    note = serializers.ListField(child=serializers.CharField(), required=False)
    callback = serializers.ListField(child=serializers.CharField(), required=False)
    send = serializers.ListField(child=serializers.CharField(), required=False)
    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)


class MoveInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        Status.choices, help_text="One of the referral's `moves` for the caller."
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=MAX_REASON,
        help_text="Required for rejected, on-hold, cancelled, failed and entered-in-error.",
    )
    outcome = serializers.ChoiceField(
        Outcome.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="Required to close the referral (completed, rejected, cancelled, failed); "
        "refused otherwise.",
    )
    note = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=services.MAX_NOTE
    )


class MoveErrorSerializer(serializers.Serializer):
    status = serializers.ListField(child=serializers.CharField(), required=False)
    reason = serializers.ListField(child=serializers.CharField(), required=False)
    outcome = serializers.ListField(child=serializers.CharField(), required=False)
    note = serializers.ListField(child=serializers.CharField(), required=False)
    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)


class StateErrorSerializer(serializers.Serializer):
    state = serializers.ListField(child=serializers.CharField())


# The service names the directory service `service`; the API's field is `service_id`.
_FIELD_NAMES = {"service": "service_id"}


def _field_errors(exc: DjangoValidationError) -> ValidationError:
    if hasattr(exc, "error_dict"):
        return ValidationError(
            {
                _FIELD_NAMES.get(field, field): messages
                for field, messages in exc.message_dict.items()
            }
        )
    return ValidationError({"non_field_errors": exc.messages})


# --- Views ---------------------------------------------------------------------------------


class YouthReferralViewSet(viewsets.ViewSet):
    """The referrals of one youth: for those who may see (list) or change (create) them."""

    authentication_classes = _AUTHENTICATION
    pagination_class = StrictPageNumberPagination

    @extend_schema(
        responses={200: ReferralRowSerializer(many=True), **_AUTH_ERRORS, **_YOUTH_NOT_FOUND}
    )
    def list(self, request: Request, youth_id: uuid.UUID) -> Response:
        youth, access, queryset = selectors.youth_referral_list(
            actor=request_user(request), youth_id=youth_id, request=request
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self) or []
        rows = selectors.youth_rows(youth, access, list(page))
        return paginator.get_paginated_response(ReferralRowSerializer(rows, many=True).data)

    @extend_schema(
        request=ReferralInputSerializer,
        responses={
            201: ReferralSerializer,
            400: OpenApiResponse(ReferralErrorSerializer, description="Invalid input."),
            **_AUTH_ERRORS,
            403: OpenApiResponse(
                ErrorSerializer,
                description="The role does not work with youth records, the session has not "
                "passed MFA, or the caller may see the youth's referrals but not make one (an "
                "agency that sees them through consent).",
            ),
            404: OpenApiResponse(
                ErrorSerializer,
                description="No such youth, one the caller may not see, one whose referrals "
                "the caller may not see, or no such active service: the same answer for all.",
            ),
        },
    )
    def create(self, request: Request, youth_id: uuid.UUID) -> Response:
        actor = request_user(request)
        youth = selectors.youth_to_refer(actor=actor, youth_id=youth_id)
        incoming = ReferralInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        service = service_get(service_id=data["service_id"])
        try:
            referral = services.referral_create(
                actor=actor,
                youth=youth,
                service=service,
                need=data["need"],
                priority=data["priority"],
                note=data["note"],
                callback=data["callback"],
                send=data["send"],
            )
        except DjangoValidationError as exc:
            raise _field_errors(exc) from exc
        return _detail_response(request, referral.pk, status.HTTP_201_CREATED)


class ReferralViewSet(viewsets.ViewSet):
    """One referral, for the youth's workers and the receiving agency; every read audited."""

    authentication_classes = _AUTHENTICATION

    @extend_schema(
        description="Opening a sent referral as the receiving agency marks it received.",
        responses={200: ReferralSerializer, **_AUTH_ERRORS, **_REFERRAL_NOT_FOUND},
    )
    def retrieve(self, request: Request, referral_id: uuid.UUID) -> Response:
        return _detail_response(request, referral_id)

    @extend_schema(
        request=MoveInputSerializer,
        responses={
            200: ReferralSerializer,
            400: OpenApiResponse(
                MoveErrorSerializer,
                description="A move the caller may not make from the current status, a missing "
                "reason or outcome, or otherwise invalid input.",
            ),
            **_AUTH_ERRORS,
            **_REFERRAL_NOT_FOUND,
        },
    )
    def move(self, request: Request, referral_id: uuid.UUID) -> Response:
        actor = request_user(request)
        referral = selectors.referral_for_change(actor=actor, referral_id=referral_id)
        incoming = MoveInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        try:
            services.referral_move(
                actor=actor,
                referral=referral,
                to_status=data["status"],
                reason=data["reason"],
                outcome=data["outcome"],
                note=data["note"],
            )
        except DjangoValidationError as exc:
            raise _field_errors(exc) from exc
        return _detail_response(request, referral.pk)


@extend_schema_serializer(many=False)  # one page object with its rows, not an array
class InboxSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    state = serializers.ChoiceField(list(selectors.INBOX_STATES))
    results = ReferralRowSerializer(many=True)


class ReferralInboxViewSet(viewsets.ViewSet):
    """Referrals sent to the caller's agency; names only where consent shares identity."""

    authentication_classes = _AUTHENTICATION

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "state",
                str,
                enum=list(selectors.INBOX_STATES),
                default="open",
                description="`open`: waiting for an answer or under way, oldest first; "
                "`closed`: closed with an outcome, latest first; `all`: every sent referral.",
            ),
            OpenApiParameter("page", int, description="A page of 50 referrals."),
        ],
        responses={
            200: InboxSerializer,
            400: OpenApiResponse(StateErrorSerializer, description="Unknown or repeated state."),
            401: _AUTH_ERRORS[401],
            403: OpenApiResponse(
                ErrorSerializer,
                description="The role does not work with youth records, the session has not "
                "passed MFA, or the role does not answer referrals (agency admins).",
            ),
            404: OpenApiResponse(ErrorSerializer, description="No such page."),
        },
    )
    def list(self, request: Request) -> Response:
        actor = request_user(request)
        if not can_answer_referrals(actor, actor.agency_id_or_none):
            raise PermissionDenied
        state = _single_query_value(request, "state", "open")
        if state not in selectors.INBOX_STATES:
            raise ValidationError(
                {
                    "state": [
                        _("Use one of: %(states)s.") % {"states": ", ".join(selectors.INBOX_STATES)}
                    ]
                }
            )
        page_values = request.query_params.getlist("page")
        if len(page_values) > 1 or page_values == [""]:
            raise Http404
        data = selectors.inbox(
            actor=actor,
            state=state,
            page_number=page_values[0] if page_values else 1,
            request=request,
            strict=True,
        )
        body = {
            "count": data.page.paginator.count,
            "page": data.page.number,
            "pages": data.page.paginator.num_pages,
            "state": data.state,
            "results": data.rows,
        }
        return Response(InboxSerializer(body).data)
