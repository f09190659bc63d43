"""Funder and county reports: /outcomes/reports/ (included before the app's other pages)."""

from django.urls import path

from . import report_views

app_name = "outcome_reports"
urlpatterns = [
    path("", report_views.program_report, name="program"),
    path("export.<str:fmt>", report_views.program_export, name="program_export"),
    path("county/", report_views.county_report, name="county"),
    path("county/export.<str:fmt>", report_views.county_export, name="county_export"),
]
