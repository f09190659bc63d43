"""One place to ask for the time, so tests can move it (patch ``safeharbor.core.clock.now``)."""

import datetime

from django.utils import timezone


def now() -> datetime.datetime:
    return timezone.now()


def today() -> datetime.date:
    return timezone.localdate(now())
