"""REST API for staying in touch. Same selectors, services and policy as the pages."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from safeharbor.access.choices import Action, Category
from safeharbor.accounts.choices import Role
from safeharbor.accounts.http import request_user
from safeharbor.youth.api import (
    _AUTH_ERRORS,
    _AUTHENTICATION,
    ErrorSerializer,
    ScopeErrorSerializer,
    StrictPageNumberPagination,
    _single_query_value,
)

from . import attention, deadlines, selectors, services
from .choices import Channel, Outcome
from .models import ContactAttempt, ContactPlan, MissingEpisode

_NOT_FOUND = {
    404: OpenApiResponse(
        ErrorSerializer,
        description="No such youth, one the caller may not see, or a category the caller may "
        "not see for it: the same answer for all.",
    ),
}


class ContactAttemptSerializer(serializers.ModelSerializer):
    attempted_by = serializers.CharField(source="attempted_by.__str__")

    class Meta:
        model = ContactAttempt
        fields = ["id", "attempted_at", "attempted_by", "channel", "outcome", "note"]


class ContactAttemptInputSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(Channel.choices)
    outcome = serializers.ChoiceField(Outcome.choices)
    attempted_at = serializers.DateTimeField(required=False, help_text="Default: now.")
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=services.MAX_NOTE, default=""
    )


class ContactAttemptErrorSerializer(serializers.Serializer):
    channel = serializers.ListField(child=serializers.CharField(), required=False)
    outcome = serializers.ListField(child=serializers.CharField(), required=False)
    attempted_at = serializers.ListField(child=serializers.CharField(), required=False)
    note = serializers.ListField(child=serializers.CharField(), required=False)


class ContactMethodSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    channel = serializers.ChoiceField(Channel.choices)
    detail = serializers.CharField()


class ContactPlanSerializer(serializers.ModelSerializer):
    methods = ContactMethodSerializer(many=True)

    class Meta:
        model = ContactPlan
        fields = ["methods", "safe_times", "code_word", "never_use", "trusted_adults", "updated_at"]


def _django_errors(exc: DjangoValidationError) -> ValidationError:
    if hasattr(exc, "error_dict"):
        return ValidationError(exc.message_dict)
    return ValidationError({"non_field_errors": exc.messages})


class ContactAttemptViewSet(viewsets.ViewSet):
    """The contact log of one youth: for the care team (the ``contact_plan`` category)."""

    authentication_classes = _AUTHENTICATION
    pagination_class = StrictPageNumberPagination

    @extend_schema(
        responses={
            200: ContactAttemptSerializer(many=True),
            **_AUTH_ERRORS,
            **_NOT_FOUND,
        }
    )
    def list(self, request: Request, youth_id: uuid.UUID) -> Response:
        _youth, queryset = selectors.contact_attempts(
            actor=request_user(request), youth_id=youth_id, request=request
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self) or []
        return paginator.get_paginated_response(ContactAttemptSerializer(page, many=True).data)

    @extend_schema(
        request=ContactAttemptInputSerializer,
        responses={
            201: ContactAttemptSerializer,
            400: OpenApiResponse(ContactAttemptErrorSerializer, description="Invalid input."),
            **_AUTH_ERRORS,
            **_NOT_FOUND,
        },
    )
    def create(self, request: Request, youth_id: uuid.UUID) -> Response:
        actor = request_user(request)
        youth = selectors.youth_for_change(
            actor=actor, youth_id=youth_id, category=Category.CONTACT_PLAN
        )
        incoming = ContactAttemptInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            attempt = services.contact_attempt_log(
                actor=actor, youth=youth, **incoming.validated_data
            )
        except DjangoValidationError as exc:
            raise _django_errors(exc) from exc
        return Response(ContactAttemptSerializer(attempt).data, status=status.HTTP_201_CREATED)


class ContactPlanViewSet(viewsets.ViewSet):
    """The contact plan of one youth: for the care team only; every read is audited."""

    authentication_classes = _AUTHENTICATION

    @extend_schema(
        responses={
            200: ContactPlanSerializer,
            **_AUTH_ERRORS,
            404: OpenApiResponse(
                ErrorSerializer,
                description="No such youth, one the caller may not see, not on the care team, "
                "or no plan yet: the same answer for all.",
            ),
        }
    )
    def retrieve(self, request: Request, youth_id: uuid.UUID) -> Response:
        _youth, plan = selectors.contact_plan(
            actor=request_user(request), youth_id=youth_id, request=request
        )
        if plan is None:
            raise Http404
        return Response(ContactPlanSerializer(plan).data)


class LocationAttemptSerializer(serializers.Serializer):
    attempted_at = serializers.DateTimeField()
    what_was_done = serializers.CharField()


class ReturnInterviewSerializer(serializers.Serializer):
    interviewed_at = serializers.DateTimeField()
    why_left = serializers.CharField()
    what_happened = serializers.CharField()
    placement_changes = serializers.CharField()


class MissingEpisodeSerializer(serializers.ModelSerializer):
    """What it takes to locate the youth, the legal deadlines, and (only for those who may see
    notes, never law enforcement) the return interview."""

    report_due_at = serializers.SerializerMethodField()
    reported_on_time_to_law_enforcement = serializers.SerializerMethodField()
    reported_on_time_to_ncmec = serializers.SerializerMethodField()
    return_screening_due_at = serializers.SerializerMethodField()
    location_attempts = LocationAttemptSerializer(many=True)
    return_interview = serializers.SerializerMethodField()

    class Meta:
        model = MissingEpisode
        fields = [
            "id",
            "started_at",
            "learned_at",
            "ended_at",
            "last_seen_at",
            "last_seen_where",
            "last_seen_with",
            "clothing",
            "description",
            "medical_needs",
            "mental_health_needs",
            "police_agency",
            "police_officer",
            "police_case_number",
            "ncmec_case_number",
            "ncic_entry_confirmation",
            "report_due_at",
            "reported_to_law_enforcement_at",
            "reported_on_time_to_law_enforcement",
            "reported_to_ncmec_at",
            "reported_on_time_to_ncmec",
            "location_attempts",
            "return_screening_due_at",
            "return_screening_at",
            "return_interview",
        ]

    @extend_schema_field(serializers.DateTimeField())
    def get_report_due_at(self, obj: MissingEpisode) -> Any:
        return serializers.DateTimeField().to_representation(deadlines.report_due(obj.learned_at))

    def get_reported_on_time_to_law_enforcement(self, obj: MissingEpisode) -> bool:
        return deadlines.report_met(obj.learned_at, obj.reported_to_law_enforcement_at)

    def get_reported_on_time_to_ncmec(self, obj: MissingEpisode) -> bool:
        return deadlines.report_met(obj.learned_at, obj.reported_to_ncmec_at)

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_return_screening_due_at(self, obj: MissingEpisode) -> Any:
        if obj.ended_at is None:
            return None
        due = deadlines.return_screening_due(obj.ended_at)
        return serializers.DateTimeField().to_representation(due)

    @extend_schema_field(ReturnInterviewSerializer(allow_null=True))
    def get_return_interview(self, obj: MissingEpisode) -> Any:
        if not self.context["sees_notes"]:
            return None
        interview = getattr(obj, "return_interview", None)
        return ReturnInterviewSerializer(interview).data if interview is not None else None


class MissingEpisodeViewSet(viewsets.ViewSet):
    """Missing-from-care episodes of one youth (the ``missing_episodes`` category)."""

    authentication_classes = _AUTHENTICATION

    @extend_schema(
        responses={200: MissingEpisodeSerializer(many=True), **_AUTH_ERRORS, **_NOT_FOUND}
    )
    def list(self, request: Request, youth_id: uuid.UUID) -> Response:
        _youth, access, episodes = selectors.missing_episodes(
            actor=request_user(request), youth_id=youth_id, request=request
        )
        context = {"sees_notes": access.allows(Action.VIEW, Category.NOTES)}
        return Response(MissingEpisodeSerializer(episodes, many=True, context=context).data)


class AttentionItemSerializer(serializers.Serializer):
    # This app's kinds and those other apps add (registered before URLs are loaded).
    kind = serializers.ChoiceField(attention.kind_choices())
    youth_id = serializers.UUIDField(source="item.youth_id")
    record_number = serializers.CharField(source="item.record_number")
    display_name = serializers.CharField(source="item.display_name", allow_null=True)
    episode_id = serializers.IntegerField(source="item.episode_id", allow_null=True)
    due_at = serializers.DateTimeField(source="item.due")
    overdue = serializers.BooleanField()
    action_url = serializers.CharField()


@extend_schema_serializer(many=False)  # one page object with its items, not an array
class AttentionSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    overdue = serializers.IntegerField()
    due_soon = serializers.IntegerField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    results = AttentionItemSerializer(many=True)


_SCOPES = ("mine", "team")


class AttentionViewSet(viewsets.ViewSet):
    """What needs the caller's attention today, most urgent first (computed when asked)."""

    authentication_classes = _AUTHENTICATION

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "scope",
                str,
                enum=list(_SCOPES),
                default="mine",
                description="`mine`: youth on the caller's care team; `team`: every youth of "
                "the caller's agency (supervisors only).",
            ),
            OpenApiParameter("page", int, description="A page of 50 items."),
        ],
        responses={
            200: AttentionSerializer,
            400: OpenApiResponse(ScopeErrorSerializer, description="Unknown or repeated scope."),
            **_AUTH_ERRORS,
            404: OpenApiResponse(ErrorSerializer, description="No such page."),
        },
    )
    def list(self, request: Request) -> Response:
        actor = request_user(request)
        scope = _single_query_value(request, "scope", "mine")
        if scope not in _SCOPES or (scope == "team" and actor.role != Role.SUPERVISOR):
            raise ValidationError({"scope": [_("Use `mine`, or `team` if you are a supervisor.")]})
        page_values = request.query_params.getlist("page")
        if len(page_values) > 1 or page_values == [""]:
            raise Http404
        result = attention.attention_page(
            actor=actor,
            team=scope == "team",
            page_number=page_values[0] if page_values else 1,
            request=request,
            strict=True,
        )
        data = {
            "count": result.page.paginator.count,
            "overdue": result.counts.overdue,
            "due_soon": result.counts.due_soon,
            "page": result.page.number,
            "pages": result.page.paginator.num_pages,
            "results": [
                {
                    "kind": row.item.kind,
                    "item": row.item,
                    "overdue": row.overdue,
                    "action_url": row.action_url,
                }
                for row in result.rows
            ],
        }
        return Response(AttentionSerializer(data).data)
