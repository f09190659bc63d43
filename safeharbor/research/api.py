"""REST API for coding: apply and remove codes, list a transcript's or a code's segments.

The same selectors and services as the pages, so the study policy and the audit apply alike.
Applying a code reads only the transcript's length, never its encrypted text.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.exceptions import PermissionDenied as DRFPermissionDenied
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from safeharbor.accounts.http import request_user

from . import selectors, services


class IsStudyUser(BasePermission):
    """Authenticated (a session must have passed MFA where the role needs it). Which studies
    the caller may reach is the study policy's answer, in the selectors: 404 otherwise."""

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.auth is not None:
            return True
        is_verified = getattr(user, "is_verified", None)
        return not user.requires_mfa or bool(is_verified and is_verified())


class ResearchErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


_ERRORS = {
    401: OpenApiResponse(
        ResearchErrorSerializer, description="No credentials, or a token that is not valid."
    ),
    403: OpenApiResponse(ResearchErrorSerializer, description="The session has not passed MFA."),
    404: OpenApiResponse(
        ResearchErrorSerializer,
        description="No such transcript, segment or code, or one in a study the caller is not "
        "on (or may not code): the same answer for all.",
    ),
}


class ApplyCodesInputSerializer(serializers.Serializer):
    start = serializers.IntegerField(
        min_value=0, help_text="First character, in Unicode code points from 0."
    )
    end = serializers.IntegerField(
        min_value=1, help_text="End (exclusive), in Unicode code points."
    )
    codes = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=50)


class SegmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    transcript = serializers.IntegerField(source="transcript_id")
    start = serializers.IntegerField()
    end = serializers.IntegerField()
    coder = serializers.IntegerField(source="coder_id")
    is_exemplar = serializers.BooleanField()
    codes = serializers.ListField(child=serializers.IntegerField())


class QuoteSerializer(serializers.Serializer):
    segment = serializers.IntegerField(source="segment_id")
    participant = serializers.CharField(source="participant_code")
    transcript = serializers.CharField(source="transcript_name")
    start = serializers.IntegerField()
    end = serializers.IntegerField()
    quote = serializers.CharField()
    is_exemplar = serializers.BooleanField()


class CodingErrorSerializer(serializers.Serializer):
    start = serializers.ListField(child=serializers.CharField(), required=False)
    codes = serializers.ListField(child=serializers.CharField(), required=False)
    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)


_AUTHENTICATION = [TokenAuthentication, SessionAuthentication]


def _segment_json(segment: Any, codes: list[int]) -> dict[str, Any]:
    return {
        "id": segment.pk,
        "transcript": segment.transcript_id,
        "start": segment.start,
        "end": segment.end,
        "coder": segment.coder_id,
        "is_exemplar": segment.is_exemplar,
        "codes": codes,
    }


def _service_errors(exc: DjangoValidationError) -> ValidationError:
    if hasattr(exc, "error_dict"):
        return ValidationError(exc.message_dict)
    return ValidationError({"non_field_errors": exc.messages})


class TranscriptCodingViewSet(viewsets.ViewSet):
    authentication_classes = _AUTHENTICATION
    permission_classes = [IsStudyUser]

    @extend_schema(
        request=ApplyCodesInputSerializer,
        responses={
            201: SegmentSerializer,
            400: OpenApiResponse(CodingErrorSerializer, description="Range or codes refused."),
            **_ERRORS,
        },
        summary="Apply codes to a stretch of a transcript",
    )
    def create(self, request: Request, transcript_id: int) -> Response:
        actor = request_user(request)
        data = ApplyCodesInputSerializer(data=request.data)
        if not data.is_valid():
            # "not found" still comes before "bad input", as it always has
            selectors.transcript_for_coding(actor=actor, transcript_id=transcript_id)
            raise ValidationError(data.errors)
        start, end = data.validated_data["start"], data.validated_data["end"]
        # The transcript (404 unless the caller leads or codes its study), the codes asked for
        # and what the service checks before coding [start, end), in one statement.
        transcript, codes, context = selectors.transcript_and_codes_for_coding(
            actor=actor,
            transcript_id=transcript_id,
            code_ids=data.validated_data["codes"],
            start=start,
            end=end,
        )
        if len(codes) != len(set(data.validated_data["codes"])):
            raise ValidationError({"codes": ["Choose codes from this study's codebook."]})
        try:
            segment, present = services.segment_apply_codes(
                actor=actor,
                transcript=transcript,
                start=start,
                end=end,
                codes=codes,
                context=context,
            )
        except DjangoValidationError as exc:
            raise _service_errors(exc) from exc
        # SegmentSerializer's shape, written directly (every value is already an int or bool).
        return Response(_segment_json(segment, present), status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={200: SegmentSerializer(many=True), **_ERRORS}, summary="A transcript's segments"
    )
    def list(self, request: Request, transcript_id: int) -> Response:
        actor = request_user(request)
        rows = selectors.transcript_segments(
            actor=actor, transcript_id=transcript_id, request=request
        )
        # Plain dicts of SegmentSerializer's shape (the schema): cheaper than DRF's per-field
        # serialisation of every segment of a long transcript.
        return Response(
            [
                {
                    "id": segment.pk,
                    "transcript": segment.transcript_id,
                    "start": segment.start,
                    "end": segment.end,
                    "coder": segment.coder_id,
                    "is_exemplar": segment.is_exemplar,
                    "codes": codes,
                }
                for segment, codes in rows
            ]
        )


class SegmentCodeViewSet(viewsets.ViewSet):
    authentication_classes = _AUTHENTICATION
    permission_classes = [IsStudyUser]

    @extend_schema(responses={204: None, **_ERRORS}, summary="Remove one code from a segment")
    def destroy(self, request: Request, segment_id: int, code_id: int) -> Response:
        actor = request_user(request)
        segment = selectors.segment_for_coding(actor=actor, segment_id=segment_id)
        codes = selectors.codes_for_coding(study_id=segment.study_id, code_ids=[code_id])
        if not codes:
            raise Http404
        try:
            services.segment_remove_code(actor=actor, segment=segment, code=codes[0])
        except DjangoValidationError as exc:
            raise _service_errors(exc) from exc
        except PermissionError as exc:  # pragma: no cover - services raise Django's
            raise DRFPermissionDenied from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class CodeSegmentsViewSet(viewsets.ViewSet):
    authentication_classes = _AUTHENTICATION
    permission_classes = [IsStudyUser]

    @extend_schema(
        responses={200: QuoteSerializer(many=True), **_ERRORS},
        summary="One code's segments, with quotes",
    )
    def list(self, request: Request, study_id: int, code_id: int) -> Response:
        rows = selectors.code_quotes(
            actor=request_user(request), study_id=study_id, code_id=code_id, request=request
        )
        # Plain dicts of the documented shape: a busy code has hundreds of rows, and DRF's
        # per-field serialisation would cost more than the query and the decryption.
        return Response(
            [
                {
                    "segment": row.segment_id,
                    "participant": row.participant_code,
                    "transcript": row.transcript_name,
                    "start": row.start,
                    "end": row.end,
                    "quote": row.quote,
                    "is_exemplar": row.is_exemplar,
                }
                for row in rows
            ]
        )
