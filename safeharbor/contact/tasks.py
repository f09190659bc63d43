"""Background work through Django's tasks API (the ``django-tasks`` backport; the database
backend in production, run by ``manage.py db_worker``). Tasks take ids, never youth data."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.utils.translation import gettext as _
from django_tasks import task

from .models import Notification, NotificationPreference
from .sms import sms_sender


@task()
def send_notification_email(notification_id: int) -> bool:
    """E-mail a notification's text (which names no youth) to its user, if they have an
    address and want e-mail."""
    notification = Notification.objects.select_related("user").get(pk=notification_id)
    user = notification.user
    preference = NotificationPreference.objects.filter(user=user).first()
    if not user.email or (preference is not None and not preference.by_email):
        return False
    site = getattr(settings, "SAFEHARBOR_SITE_URL", "").rstrip("/")
    link = f"{site}{notification.url}" if site and notification.url else ""
    body = "\n\n".join(
        part
        for part in (
            notification.text,
            _("Sign in to Safe Harbor to see them."),
            link,
        )
        if part
    )
    send_mail(
        subject=_("Safe Harbor: your daily digest"),
        message=body,
        from_email=None,
        recipient_list=[user.email],
    )
    return True


@task()
def send_notification_sms(notification_id: int) -> bool:
    """Text a notification's text to its user's mobile number, if they asked for it."""
    notification = Notification.objects.get(pk=notification_id)
    preference = NotificationPreference.objects.filter(user_id=notification.user_id).first()
    if preference is None or not preference.by_sms or not preference.sms_number:
        return False
    sms_sender().send(to=preference.sms_number, text=notification.text)
    return True
