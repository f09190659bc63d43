"""REST API for youth records and their consents. Same selectors and policy as the pages."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, viewsets
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from safeharbor.access.choices import Category
from safeharbor.accounts.http import request_user

from . import selectors
from .models import ConsentToShare, Youth


class ErrorSerializer(serializers.Serializer):
    """DRF's error body: one sentence, never any youth data."""

    detail = serializers.CharField()


class ScopeErrorSerializer(serializers.Serializer):
    scope = serializers.ListField(child=serializers.CharField())


# Documented on every operation, so clients (and the schema fuzzer) know each answer.
_AUTH_ERRORS = {
    401: OpenApiResponse(
        ErrorSerializer, description="No credentials, or a token that is not valid."
    ),
    403: OpenApiResponse(
        ErrorSerializer,
        description="The role does not work with youth records, or the session has not passed MFA.",
    ),
}
_NOT_FOUND = {
    404: OpenApiResponse(
        ErrorSerializer,
        description="No such youth, or one the caller may not see: the same answer for both.",
    ),
}
_SCOPES = ("mine", "all")


def _single_query_value(request: Request, name: str, default: str) -> str:
    """A documented single-valued parameter, refused (400) when given more than once."""
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise ValidationError({name: [_("Give this parameter at most once.")]})
    return values[0] if values else default


class StrictPageNumberPagination(PageNumberPagination):
    """`page` as documented: one positive integer, or absent for the first page.

    DRF would read an empty `page=` as page 1 and `page=last` as the last page; the schema says
    integer, so both are "no such page" here, like any other page that does not exist.
    """

    last_page_strings = ()

    def get_page_number(self, request: Any, paginator: Any) -> Any:
        values = request.query_params.getlist(self.page_query_param)
        if len(values) > 1 or values == [""]:
            raise NotFound(_("Invalid page."))
        return super().get_page_number(request, paginator)


class YouthListItemSerializer(serializers.Serializer):
    """One row; the name and county are null where the policy does not share identity."""

    id = serializers.UUIDField(source="youth.pk")
    record_number = serializers.CharField(source="youth.record_number")
    display_name = serializers.CharField(allow_null=True)
    county = serializers.SerializerMethodField()
    agency = serializers.CharField(source="youth.owning_agency.name")

    def get_county(self, row: selectors.YouthListRow) -> str | None:
        return row.youth.county if row.display_name is not None else None


class YouthDetailSerializer(serializers.Serializer):
    """Identity fields are null where the policy withholds them; the record still exists."""

    id = serializers.UUIDField()
    record_number = serializers.CharField()
    agency = serializers.CharField()
    shared_categories = serializers.ListField(child=serializers.CharField())
    given_name = serializers.CharField(allow_null=True)
    family_name = serializers.CharField(allow_null=True)
    preferred_name = serializers.CharField(allow_null=True)
    date_of_birth = serializers.DateField(allow_null=True)
    age_band = serializers.CharField(allow_null=True)
    gender_identity = serializers.CharField(allow_null=True)
    pronouns = serializers.CharField(allow_null=True)
    preferred_language = serializers.CharField(allow_null=True)
    county = serializers.CharField(allow_null=True)


class ConsentSerializer(serializers.ModelSerializer):
    recipient_agency = serializers.CharField(source="recipient_agency.name")
    categories = serializers.ListField(child=serializers.ChoiceField(Category.choices))
    status = serializers.SerializerMethodField()

    class Meta:
        model = ConsentToShare
        fields = [
            "id",
            "signer_kind",
            "recipient_agency",
            "categories",
            "purpose",
            "valid_from",
            "expires_on",
            "revoked_at",
            "revoked_reason",
            "status",
        ]

    @extend_schema_field(serializers.ChoiceField(["live", "expired", "future", "revoked"]))
    def get_status(self, obj: ConsentToShare) -> str:
        return obj.status(self.context["today"])


def _detail(youth: Youth, shown: frozenset[str], today: Any) -> dict[str, Any]:
    identity = Category.IDENTITY in shown
    return {
        "id": youth.pk,
        "record_number": youth.record_number,
        "agency": youth.owning_agency.name,
        "shared_categories": sorted(shown),
        "given_name": youth.given_name if identity else None,
        "family_name": youth.family_name if identity else None,
        "preferred_name": youth.preferred_name if identity else None,
        "date_of_birth": youth.date_of_birth if identity else None,
        "age_band": youth.age_band(today) if identity else None,
        "gender_identity": youth.gender_identity if identity else None,
        "pronouns": youth.pronouns if identity else None,
        "preferred_language": youth.preferred_language if identity else None,
        "county": youth.county if identity else None,
    }


# Token first: API clients use tokens, so a request without valid credentials is answered 401 with
# `WWW-Authenticate: Token` (DRF takes that header from the first class; a session-first order
# answers 403). Sessions still work for same-origin pages, behind MFA (IsYouthDataUser).
_AUTHENTICATION = [TokenAuthentication, SessionAuthentication]


class YouthViewSet(viewsets.ViewSet):
    """Youth the caller may know of; every response is audited."""

    authentication_classes = _AUTHENTICATION
    pagination_class = StrictPageNumberPagination  # also tells the schema the list is paginated

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "scope",
                str,
                enum=list(_SCOPES),
                default="mine",
                description="`mine`: youth on the caller's care team; `all`: every youth the "
                "caller may know of.",
            ),
        ],
        responses={
            200: YouthListItemSerializer(many=True),
            400: OpenApiResponse(ScopeErrorSerializer, description="Unknown or repeated scope."),
            **_AUTH_ERRORS,
            404: OpenApiResponse(ErrorSerializer, description="No such page."),
        },
    )
    def list(self, request: Request) -> Response:
        scope = _single_query_value(request, "scope", "mine")
        if scope not in _SCOPES:
            raise ValidationError(
                {"scope": [_("Use one of: %(scopes)s.") % {"scopes": ", ".join(_SCOPES)}]}
            )
        queryset = selectors.youth_list(
            actor=request_user(request), only_my_caseload=scope != "all"
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self) or []
        rows = selectors.youth_list_rows(actor=request_user(request), youths=page, request=request)
        return paginator.get_paginated_response(YouthListItemSerializer(rows, many=True).data)

    @extend_schema(responses={200: YouthDetailSerializer, **_AUTH_ERRORS, **_NOT_FOUND})
    def retrieve(self, request: Request, youth_id: uuid.UUID) -> Response:
        data = selectors.youth_record(
            actor=request_user(request), youth_id=youth_id, request=request
        )
        shown = data.access.categories()
        return Response(YouthDetailSerializer(_detail(data.youth, shown, data.today)).data)


class YouthConsentViewSet(viewsets.ViewSet):
    """Consents of one youth: for the record's own agency and care team."""

    authentication_classes = _AUTHENTICATION

    @extend_schema(responses={200: ConsentSerializer(many=True), **_AUTH_ERRORS, **_NOT_FOUND})
    def list(self, request: Request, youth_id: uuid.UUID) -> Response:
        data = selectors.youth_record(
            actor=request_user(request), youth_id=youth_id, request=request
        )
        if data.consents is None:
            raise Http404
        return Response(
            ConsentSerializer(data.consents, many=True, context={"today": data.today}).data
        )
