from django.urls import path

from . import views

app_name = "contact"
_YOUTH = "youth/<uuid:youth_id>/"
_EPISODE = _YOUTH + "missing/<int:episode_id>/"
urlpatterns = [
    path("attention/", views.attention_mine, name="attention"),
    path("attention/team/", views.attention_team, name="attention_team"),
    path("notifications/", views.notifications, name="notifications"),
    path(
        "notifications/<int:notification_id>/read/",
        views.notification_read,
        name="notification_read",
    ),
    path("calendar/", views.calendar, name="calendar"),
    path("calendar/feed/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("rules/", views.rules, name="rules"),
    path(_YOUTH + "log/", views.log_contact, name="log"),
    path(_YOUTH + "plan/", views.plan_edit, name="plan_edit"),
    path(_YOUTH + "check-ins/new/", views.check_in_new, name="check_in_new"),
    path(
        _YOUTH + "check-ins/<int:check_in_id>/cancel/",
        views.check_in_cancel,
        name="check_in_cancel",
    ),
    path(_YOUTH + "missing/new/", views.episode_new, name="episode_new"),
    path(_EPISODE, views.episode_detail, name="episode"),
    path(_EPISODE + "edit/", views.episode_edit, name="episode_edit"),
    path(_EPISODE + "report/<str:to>/", views.episode_report, name="episode_report"),
    path(_EPISODE + "locate/", views.location_new, name="location_new"),
    path(_EPISODE + "return/", views.episode_close, name="episode_close"),
    path(_EPISODE + "interview/", views.interview_new, name="interview_new"),
    path(_EPISODE + "screening/", views.screening_record, name="screening_record"),
]
