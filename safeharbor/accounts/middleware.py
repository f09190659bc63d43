"""Users whose role requires MFA can reach nothing but the MFA pages until they pass it."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

# Public pages (the resource finder and the HSDS API) never depend on who is signed in.
_OPEN_PREFIXES = ("/accounts/", "/i18n/", "/static/", "/find/", "/api/hsds/")


class RequireMFAMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and user.requires_mfa
            and not user.is_verified()  # type: ignore[attr-defined]
            and not request.path.startswith(_OPEN_PREFIXES)
            and not request.path.startswith(settings.STATIC_URL)
        ):
            return redirect(f"{reverse('accounts:mfa_verify')}?next={request.path}")
        return self.get_response(request)
