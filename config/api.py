"""The /api/v1/ routes."""

from django.urls import path

from safeharbor.youth.api import YouthConsentViewSet, YouthViewSet

urlpatterns = [
    path("youth/", YouthViewSet.as_view({"get": "list"}), name="youth-list"),
    path("youth/<uuid:youth_id>/", YouthViewSet.as_view({"get": "retrieve"}), name="youth-detail"),
    path(
        "youth/<uuid:youth_id>/consents/",
        YouthConsentViewSet.as_view({"get": "list"}),
        name="youth-consents",
    ),
]
