"""Test settings: fixed fake keys, a fast password hasher, no network."""

from .base import *  # noqa: F403
from .base import env

SECRET_KEY = "test-only-secret-key-not-for-any-deployment-0123456789"  # noqa: S105
# Two keys, so that every test run exercises decryption by key id; "t2" encrypts.
SAFEHARBOR_DATA_KEYS = (
    "t2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=,"
    "t1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
)
SAFEHARBOR_BLIND_INDEX_KEY = "CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk="
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["*"]
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}  # noqa: F405
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SAFEHARBOR_ALLOW_AUDIT_FLUSH = True

# Serve static files from the app folders without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Tasks run at once in tests; text messages go to safeharbor.contact.sms.outbox.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
SAFEHARBOR_SMS_SENDER = "safeharbor.contact.sms.LocmemSmsSender"
