from django.urls import path

from . import views

app_name = "referrals"
urlpatterns = [
    path("", views.sent, name="sent"),
    path("inbox/", views.inbox, name="inbox"),
    path("youth/<uuid:youth_id>/new/", views.new_referral, name="new"),
    path("youth/<uuid:youth_id>/new/<uuid:service_id>/", views.new_referral_to, name="new_to"),
    path("<uuid:referral_id>/", views.detail, name="detail"),
    path("<uuid:referral_id>/move/", views.move, name="move"),
    path("<uuid:referral_id>/print/", views.print_summary, name="print"),
]
