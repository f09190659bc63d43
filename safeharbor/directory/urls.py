"""The directory's routes: the public finder, the workers' pages and the HSDS API."""

from django.urls import include, path

from . import views

app_name = "directory"
urlpatterns = [
    path("find/", views.finder, name="finder"),
    path("find/services/<uuid:service_id>/", views.finder_service, name="finder_service"),
    path("directory/", views.search_page, name="search"),
    path("directory/mine/", views.my_services, name="mine"),
    path("directory/services/<uuid:service_id>/", views.service_page, name="service"),
    path("directory/services/<uuid:service_id>/edit/", views.service_edit, name="service_edit"),
    path(
        "directory/services/<uuid:service_id>/capacity/",
        views.capacity_edit,
        name="capacity_edit",
    ),
    path("api/hsds/", include("safeharbor.directory.api_urls")),
]
