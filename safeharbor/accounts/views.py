"""Login, MFA and logout. Thin: the work happens in ``mfa``."""

from __future__ import annotations

import segno
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from .forms import TokenForm
from .http import AuthenticatedHttpRequest
from .mfa import mfa_enrol_confirm, mfa_verify, totp_device_confirmed, totp_device_pending


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


@login_required
def home_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Where a login lands: the caseload for youth workers, a plain page for other roles."""
    if request.user.works_with_youth_data:
        return redirect("youth:caseload")
    membership = request.user.agency_membership
    return render(request, "accounts/home.html", {"membership": membership})


def _safe_next(request: HttpRequest, default: str = "home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return default


@login_required
def mfa_verify_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    if not user.requires_mfa or user.is_verified():  # type: ignore[attr-defined]
        return redirect(_safe_next(request))
    if totp_device_confirmed(user) is None:
        return redirect("accounts:mfa_setup")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if mfa_verify(request=request, user=user, token=form.cleaned_data["token"]):
            return redirect(_safe_next(request))
        form.add_error("token", _("That code did not match. Enter the current code from your app."))
    return render(request, "accounts/mfa_verify.html", {"form": form, "next": _safe_next(request)})


@login_required
def mfa_setup_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    confirmed = totp_device_confirmed(user)
    if confirmed is not None:
        return render(request, "accounts/mfa_enrolled.html", {})
    device = totp_device_pending(user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if mfa_enrol_confirm(request=request, user=user, token=form.cleaned_data["token"]):
            return redirect("home")
        form.add_error("token", _("That code did not match. Scan the code again and retry."))
    qr = segno.make(device.config_url, error="m")
    context = {
        "form": form,
        "qr_data_uri": qr.svg_data_uri(scale=4),
        "secret": device.config_url.split("secret=")[1].split("&")[0],
    }
    return render(request, "accounts/mfa_setup.html", context)
