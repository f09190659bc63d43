from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from safeharbor.accounts.http import AuthenticatedHttpRequest
from safeharbor.core.forms import add_service_errors

from .forms import ReviewForm
from .policy import can_review_break_glass
from .selectors import break_glass_get, break_glass_review_list
from .services import break_glass_review


@login_required
def break_glass_review_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not can_review_break_glass(request.user):
        raise PermissionDenied
    accesses = break_glass_review_list(actor=request.user)[:200]
    return render(
        request, "access/break_glass_review.html", {"accesses": accesses, "form": ReviewForm()}
    )


@login_required
def break_glass_review_submit(request: AuthenticatedHttpRequest, access_id: int) -> HttpResponse:
    access = break_glass_get(actor=request.user, access_id=access_id)
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            break_glass_review(actor=request.user, access=access, note=form.cleaned_data["note"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Review recorded."))
            return redirect("access:break_glass_review")
    return render(request, "access/break_glass_review_form.html", {"form": form, "access": access})
