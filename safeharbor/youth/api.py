"""REST API for youth records and their consents. Same selectors and policy as the pages."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from safeharbor.access.choices import Category
from safeharbor.accounts.http import request_user

from . import selectors
from .models import ConsentToShare, Youth


class YouthListItemSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    record_number = serializers.CharField()
    display_name = serializers.CharField()
    county = serializers.CharField()
    agency = serializers.CharField(source="owning_agency.name")


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


class YouthViewSet(viewsets.ViewSet):
    """Youth the caller may know of; every response is audited."""

    @extend_schema(responses=YouthListItemSerializer(many=True))
    def list(self, request: Request) -> Response:
        scope_all = request.query_params.get("scope") == "all"
        queryset = selectors.youth_list(actor=request_user(request), only_my_caseload=not scope_all)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(queryset, request, view=self) or []
        selectors.youth_list_audit(
            actor=request_user(request), youth_ids=[y.pk for y in page], request=request
        )
        return paginator.get_paginated_response(YouthListItemSerializer(page, many=True).data)

    @extend_schema(responses=YouthDetailSerializer)
    def retrieve(self, request: Request, youth_id: uuid.UUID) -> Response:
        data = selectors.youth_record(
            actor=request_user(request), youth_id=youth_id, request=request
        )
        shown = data.access.categories()
        return Response(YouthDetailSerializer(_detail(data.youth, shown, data.today)).data)


class YouthConsentViewSet(viewsets.ViewSet):
    """Consents of one youth: for the record's own agency and care team."""

    @extend_schema(responses=ConsentSerializer(many=True))
    def list(self, request: Request, youth_id: uuid.UUID) -> Response:
        data = selectors.youth_record(
            actor=request_user(request), youth_id=youth_id, request=request
        )
        if data.consents is None:
            raise Http404
        return Response(
            ConsentSerializer(data.consents, many=True, context={"today": data.today}).data
        )
