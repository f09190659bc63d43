from django.urls import path

from . import views

app_name = "screening"
_ONE = "youth/<uuid:youth_id>/<int:screening_id>/"
urlpatterns = [
    path("", views.due, name="due"),
    path("instruments/", views.instruments, name="instruments"),
    path("instruments/upload/", views.instrument_upload, name="instrument_upload"),
    path("instruments/interval/", views.interval_set, name="interval_set"),
    path("instruments/<int:instrument_id>/", views.instrument_detail, name="instrument_detail"),
    path(
        "instruments/<int:instrument_id>/export/",
        views.instrument_export,
        name="instrument_export",
    ),
    path("youth/<uuid:youth_id>/new/", views.screening_new, name="new"),
    path("youth/<uuid:youth_id>/events/new/", views.trigger_new, name="trigger_new"),
    path(
        "youth/<uuid:youth_id>/identified/new/",
        views.identification_new,
        name="identification_new",
    ),
    path(
        "youth/<uuid:youth_id>/identified/<int:identification_id>/report/",
        views.report_new,
        name="report_new",
    ),
    path(_ONE, views.screening_detail, name="detail"),
    path(_ONE + "step/<int:step>/", views.screening_step, name="step"),
    path(_ONE + "finish/", views.screening_finish, name="finish"),
    path(_ONE + "review/", views.screening_review, name="review"),
    path(_ONE + "revise/", views.screening_revise, name="revise"),
    path(_ONE + "discard/", views.screening_discard, name="discard"),
]
