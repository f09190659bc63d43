"""The /api/v1/ routes."""

from django.urls import path

from safeharbor.contact.api import (
    AttentionViewSet,
    ContactAttemptViewSet,
    ContactPlanViewSet,
    MissingEpisodeViewSet,
)
from safeharbor.referrals.api import ReferralInboxViewSet, ReferralViewSet, YouthReferralViewSet
from safeharbor.research.api import CodeSegmentsViewSet, SegmentCodeViewSet, TranscriptCodingViewSet
from safeharbor.screening.api import YouthScreeningViewSet
from safeharbor.youth.api import YouthConsentViewSet, YouthViewSet

urlpatterns = [
    path("youth/", YouthViewSet.as_view({"get": "list"}), name="youth-list"),
    path("youth/<uuid:youth_id>/", YouthViewSet.as_view({"get": "retrieve"}), name="youth-detail"),
    path(
        "youth/<uuid:youth_id>/consents/",
        YouthConsentViewSet.as_view({"get": "list"}),
        name="youth-consents",
    ),
    path(
        "research/transcripts/<int:transcript_id>/segments/",
        TranscriptCodingViewSet.as_view({"get": "list", "post": "create"}),
        name="research-transcript-segments",
    ),
    path(
        "research/segments/<int:segment_id>/codes/<int:code_id>/",
        SegmentCodeViewSet.as_view({"delete": "destroy"}),
        name="research-segment-code",
    ),
    path(
        "research/studies/<int:study_id>/codes/<int:code_id>/segments/",
        CodeSegmentsViewSet.as_view({"get": "list"}),
        name="research-code-segments",
    ),
    path(
        "youth/<uuid:youth_id>/contact-plan/",
        ContactPlanViewSet.as_view({"get": "retrieve"}),
        name="youth-contact-plan",
    ),
    path(
        "youth/<uuid:youth_id>/contact-attempts/",
        ContactAttemptViewSet.as_view({"get": "list", "post": "create"}),
        name="youth-contact-attempts",
    ),
    path(
        "youth/<uuid:youth_id>/missing-episodes/",
        MissingEpisodeViewSet.as_view({"get": "list"}),
        name="youth-missing-episodes",
    ),
    path("attention/", AttentionViewSet.as_view({"get": "list"}), name="attention"),
    path(
        "youth/<uuid:youth_id>/screenings/",
        YouthScreeningViewSet.as_view({"get": "list", "post": "create"}),
        name="youth-screenings",
    ),
    path(
        "youth/<uuid:youth_id>/screenings/<int:screening_id>/",
        YouthScreeningViewSet.as_view({"get": "retrieve"}),
        name="youth-screening",
    ),
    path(
        "youth/<uuid:youth_id>/referrals/",
        YouthReferralViewSet.as_view({"get": "list", "post": "create"}),
        name="youth-referrals",
    ),
    path("referrals/inbox/", ReferralInboxViewSet.as_view({"get": "list"}), name="referral-inbox"),
    path(
        "referrals/<uuid:referral_id>/",
        ReferralViewSet.as_view({"get": "retrieve"}),
        name="referral-detail",
    ),
    path(
        "referrals/<uuid:referral_id>/status/",
        ReferralViewSet.as_view({"post": "move"}),
        name="referral-status",
    ),
]
