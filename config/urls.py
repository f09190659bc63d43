from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from safeharbor.accounts.views import home_view

urlpatterns = [
    path("", home_view, name="home"),
    path("accounts/", include("safeharbor.accounts.urls")),
    path("youth/", include("safeharbor.youth.urls")),
    path("access/", include("safeharbor.access.urls")),
    path("research/", include("safeharbor.research.urls")),
    path("contact/", include("safeharbor.contact.urls")),
    path("screening/", include("safeharbor.screening.urls")),
    path("referrals/", include("safeharbor.referrals.urls")),
    path("outcomes/reports/", include("safeharbor.outcomes.report_urls")),
    path("outcomes/", include("safeharbor.outcomes.urls")),
    path("", include("safeharbor.directory.urls")),  # /find/, /directory/, /api/hsds/
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(("config.api", "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("admin/", admin.site.urls),
]

handler404 = "safeharbor.core.errors.not_found"
