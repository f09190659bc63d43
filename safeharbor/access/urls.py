from django.urls import path

from . import views

app_name = "access"
urlpatterns = [
    path("break-glass/", views.break_glass_review_view, name="break_glass_review"),
    path(
        "break-glass/<int:access_id>/review/",
        views.break_glass_review_submit,
        name="break_glass_review_submit",
    ),
]
