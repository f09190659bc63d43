"""The client's IP address, for login lockout and the audit trail.

Behind ``TRUSTED_PROXY_COUNT`` proxies that each append the address they saw to
X-Forwarded-For (nginx ``$proxy_add_x_forwarded_for``, most load balancers), the client is the
N-th address from the right; anything further left was written by the client and is ignored.
With no trusted proxy the header is ignored entirely and REMOTE_ADDR is the client. (django-ipware
counts addresses from the left, which a client can spoof; see docs/deploy.md.)
"""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0))
    remote = request.META.get("REMOTE_ADDR") or None
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        return remote
    return forwarded[-proxies]
