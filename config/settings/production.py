"""Production: everything from the environment; only tightens the base settings."""

import environ

from ._env import (
    email_settings,
    env,
    replica_databases,
    require,
    routers_for,
    with_prepared_statements,
)
from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = require("SECRET_KEY")
SAFEHARBOR_DATA_KEYS = require("SAFEHARBOR_DATA_KEYS")
SAFEHARBOR_BLIND_INDEX_KEY = require("SAFEHARBOR_BLIND_INDEX_KEY")
ALLOWED_HOSTS = [h.strip() for h in require("ALLOWED_HOSTS").split(",") if h.strip()]
DATABASES = {
    "default": with_prepared_statements(environ.Env.db_url_config(require("DATABASE_URL"))),
    **replica_databases(),
}
for _database in DATABASES.values():
    _database["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASE_ROUTERS = routers_for(DATABASES)

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Outgoing e-mail (digest notifications): EMAIL_URL=smtp+tls://user:password@mail.example.org:587
# (STARTTLS) or smtp+ssl://...:465. Without it, mail goes to the local SMTP relay on port 25.
if env.str("EMAIL_URL", default=""):
    vars().update(email_settings("EMAIL_URL"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Safe Harbor <safeharbor@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
