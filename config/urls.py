from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="youth:caseload", permanent=False)),
    path("accounts/", include("safeharbor.accounts.urls")),
    path("youth/", include("safeharbor.youth.urls")),
    path("access/", include("safeharbor.access.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(("config.api", "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("admin/", admin.site.urls),
]

handler404 = "safeharbor.core.errors.not_found"
