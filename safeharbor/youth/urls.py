from django.urls import path

from . import views

app_name = "youth"
urlpatterns = [
    path("", views.caseload, name="caseload"),
    path("new/", views.youth_create, name="create"),
    path("find/", views.find_youth, name="search"),
    path("<uuid:youth_id>/", views.youth_detail, name="detail"),
    path("<uuid:youth_id>/consents/new/", views.consent_new, name="consent_new"),
    path(
        "<uuid:youth_id>/consents/<int:consent_id>/revoke/",
        views.consent_revoke,
        name="consent_revoke",
    ),
    path(
        "<uuid:youth_id>/consents/<int:consent_id>/form/",
        views.consent_signed_form,
        name="consent_form",
    ),
    path("<uuid:youth_id>/notes/new/", views.note_new, name="note_new"),
    path("<uuid:youth_id>/team/new/", views.care_team_new, name="care_team_new"),
    path("<uuid:youth_id>/access-log/", views.access_log, name="access_log"),
    path("<uuid:youth_id>/break-glass/", views.break_glass, name="break_glass"),
]
