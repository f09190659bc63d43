"""REST API for a youth's screenings, as FHIR R4 ``QuestionnaireResponse`` JSON (see ``fhir.py``).

Same selectors, services and policy as the pages: the ``screening`` category of the access
policy decides, a youth that is missing or not allowed is the same 404, and every response is
audited.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from safeharbor.access.choices import Action
from safeharbor.accounts.http import request_user
from safeharbor.youth.api import ErrorSerializer

from . import fhir, selectors, services
from .choices import ScreeningLanguage

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
        description="No such youth or screening, or one whose screening data the caller may not "
        "see (or, to submit, change): the same answer for all.",
    ),
}


class CodingSerializer(serializers.Serializer):
    system = serializers.CharField(required=False, max_length=255)
    code = serializers.CharField(max_length=64)
    display = serializers.CharField(required=False, max_length=2000)


class AnswerSerializer(serializers.Serializer):
    valueCoding = CodingSerializer()  # noqa: N815  (FHIR's element name)


class ResponseQuestionSerializer(serializers.Serializer):
    """A question's answer, inside its domain's group."""

    linkId = serializers.CharField(max_length=64)  # noqa: N815
    text = serializers.CharField(required=False, max_length=2000)
    answer = AnswerSerializer(many=True, required=False)


class ResponseItemSerializer(serializers.Serializer):
    """A domain (group) holding its questions, or a question listed without its group."""

    linkId = serializers.CharField(max_length=64)  # noqa: N815
    text = serializers.CharField(required=False, max_length=2000)
    answer = AnswerSerializer(many=True, required=False)
    item = ResponseQuestionSerializer(many=True, required=False)


class SubExtensionSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=100)
    valueCode = serializers.CharField(required=False, max_length=64)  # noqa: N815
    valueString = serializers.CharField(required=False, max_length=5000)  # noqa: N815
    valueBoolean = serializers.BooleanField(required=False)  # noqa: N815
    valueDecimal = serializers.FloatField(required=False)  # noqa: N815


class ExtensionSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=255)
    extension = SubExtensionSerializer(many=True, required=False)


class QuestionnaireResponseInSerializer(serializers.Serializer):
    """A screening to store. ``extension`` must carry ``screening-context`` with ``reason`` and
    ``mode`` (valueCode); ``completed`` scores it, ``in-progress`` keeps a draft."""

    resourceType = serializers.CharField(  # noqa: N815
        max_length=40, help_text="Always `QuestionnaireResponse`."
    )
    questionnaire = serializers.CharField(
        max_length=330, help_text="The instrument's canonical URL and version: `url|version`."
    )
    status = serializers.ChoiceField(["completed", "in-progress"])
    language = serializers.ChoiceField(ScreeningLanguage.choices, required=False, default="en")
    extension = ExtensionSerializer(many=True)
    item = ResponseItemSerializer(many=True, required=False)

    def validate_resourceType(self, value: str) -> str:  # noqa: N802  (DRF names it by field)
        if value != "QuestionnaireResponse":
            raise serializers.ValidationError(_("Send a FHIR QuestionnaireResponse."))
        return value


class IdentifierSerializer(serializers.Serializer):
    system = serializers.CharField()
    value = serializers.CharField()


class SubjectSerializer(serializers.Serializer):
    identifier = IdentifierSerializer()


class AuthorSerializer(serializers.Serializer):
    display = serializers.CharField()


class QuestionnaireResponseSerializer(serializers.Serializer):
    """A stored screening. ``screening-result`` carries the levels, the override and its reason,
    the next action, the total score and whether the instrument is validated."""

    resourceType = serializers.CharField(  # noqa: N815
        help_text="Always `QuestionnaireResponse`."
    )
    id = serializers.CharField()
    questionnaire = serializers.CharField()
    status = serializers.ChoiceField(["in-progress", "completed", "amended"])
    language = serializers.ChoiceField(ScreeningLanguage.choices)
    subject = SubjectSerializer()
    authored = serializers.DateTimeField()
    author = AuthorSerializer()
    extension = ExtensionSerializer(many=True)
    item = ResponseItemSerializer(many=True)


class BundleEntrySerializer(serializers.Serializer):
    resource = QuestionnaireResponseSerializer()


@extend_schema_serializer(many=False)  # a FHIR Bundle object, not an array of them
class ScreeningBundleSerializer(serializers.Serializer):
    """A FHIR ``searchset`` Bundle of the youth's screenings, newest first."""

    resourceType = serializers.CharField(help_text="Always `Bundle`.")  # noqa: N815
    type = serializers.CharField(help_text="Always `searchset`.")
    total = serializers.IntegerField()
    entry = BundleEntrySerializer(many=True)


_BAD_REQUEST = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="The response cannot be stored: an object mapping each field (or `answers`, "
    "naming each question whose answer is not one of its options) to a list of messages.",
)

_AUTHENTICATION = [TokenAuthentication, SessionAuthentication]


class YouthScreeningViewSet(viewsets.ViewSet):
    """A youth's screenings as FHIR QuestionnaireResponses; every response is audited."""

    authentication_classes = _AUTHENTICATION

    @extend_schema(responses={200: ScreeningBundleSerializer, **_AUTH_ERRORS, **_NOT_FOUND})
    def list(self, request: Request, youth_id: uuid.UUID) -> Response:
        _youth, screenings = selectors.youth_screenings(
            actor=request_user(request), youth_id=youth_id, request=request
        )
        bundle = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(screenings),
            "entry": [{"resource": fhir.to_questionnaire_response(s)} for s in screenings],
        }
        return Response(ScreeningBundleSerializer(bundle).data)

    @extend_schema(
        request=QuestionnaireResponseInSerializer,
        responses={
            201: QuestionnaireResponseSerializer,
            400: _BAD_REQUEST,
            **_AUTH_ERRORS,
            **_NOT_FOUND,
        },
    )
    def create(self, request: Request, youth_id: uuid.UUID) -> Response:
        actor = request_user(request)
        youth, _access = selectors.screening_youth(
            actor=actor, youth_id=youth_id, action=Action.CHANGE
        )
        incoming = QuestionnaireResponseInSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            parsed = fhir.from_questionnaire_response(incoming.validated_data)
        except fhir.ResponseError as exc:
            raise ValidationError(exc.errors) from exc
        instrument = selectors.instrument_by_canonical(
            actor=actor, url=parsed.url, version=parsed.version
        )
        if instrument is None:
            raise ValidationError(
                {"questionnaire": [_("Your agency has no instrument with this URL and version.")]}
            )
        try:
            screening = services.screening_submit(
                actor=actor,
                youth=youth,
                instrument=instrument,
                reason=parsed.reason,
                mode=parsed.mode,
                language=parsed.language,
                answers=parsed.answers,
                complete=parsed.complete,
            )
        except DjangoValidationError as exc:
            raise ValidationError(_errors(exc)) from exc
        return Response(
            QuestionnaireResponseSerializer(fhir.to_questionnaire_response(screening)).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(responses={200: QuestionnaireResponseSerializer, **_AUTH_ERRORS, **_NOT_FOUND})
    def retrieve(self, request: Request, youth_id: uuid.UUID, screening_id: int) -> Response:
        view = selectors.screening_get(
            actor=request_user(request),
            youth_id=youth_id,
            screening_id=screening_id,
            request=request,
        )
        return Response(
            QuestionnaireResponseSerializer(fhir.to_questionnaire_response(view.screening)).data
        )


def _errors(exc: DjangoValidationError) -> Any:
    if hasattr(exc, "error_dict"):
        return exc.message_dict
    return {"non_field_errors": exc.messages}
