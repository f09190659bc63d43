"""/api/hsds/: the HSDS 3.0 API (paths as the official OpenAPI has them, with or without a
trailing slash)."""

from django.urls import re_path

from . import api

urlpatterns = [
    re_path(r"^$", api.RootView.as_view(), name="hsds-root"),
    re_path(r"^services/?$", api.ServiceListView.as_view(), name="hsds-services"),
    re_path(
        r"^services/(?P<service_id>[^/]+)/?$",
        api.ServiceDetailView.as_view(),
        name="hsds-service",
    ),
    re_path(r"^organizations/?$", api.OrganizationListView.as_view(), name="hsds-organizations"),
    re_path(
        r"^service_at_locations/?$",
        api.ServiceAtLocationListView.as_view(),
        name="hsds-service-at-locations",
    ),
    re_path(r"^taxonomies/?$", api.TaxonomyListView.as_view(), name="hsds-taxonomies"),
    re_path(r"^taxonomy_terms/?$", api.TaxonomyTermListView.as_view(), name="hsds-taxonomy-terms"),
]
