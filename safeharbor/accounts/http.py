"""Typing for views that run only for logged-in users (behind @login_required or DRF auth)."""

from typing import cast

from django.http import HttpRequest

from .models import User


class AuthenticatedHttpRequest(HttpRequest):
    user: User


def request_user(request: HttpRequest) -> User:
    """The logged-in user of a request that authentication has already let through."""
    return cast(User, request.user)
