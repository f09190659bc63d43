from django.urls import path

from . import views

app_name = "outcomes"
urlpatterns = [
    path("youth/<uuid:youth_id>/timeline/", views.timeline, name="timeline"),
    path("youth/<uuid:youth_id>/enrol/", views.enrol, name="enrol"),
    path(
        "youth/<uuid:youth_id>/enrolments/<int:enrolment_id>/exit/",
        views.exit_enrolment,
        name="exit",
    ),
    path("youth/<uuid:youth_id>/services/new/", views.service_new, name="service_new"),
    path("youth/<uuid:youth_id>/outcomes/new/", views.observation_new, name="observation_new"),
    path("programs/", views.programs, name="programs"),
    path("programs/new/", views.program_new, name="program_new"),
    path("programs/<int:program_id>/", views.program_detail, name="program"),
    path("programs/<int:program_id>/funding/new/", views.funding_new, name="funding_new"),
    path("programs/<int:program_id>/dashboard/", views.program_dashboard, name="dashboard"),
    path("definitions/", views.definitions, name="definitions"),
]
