"""Settings shared by every environment. Each value comes from the environment where it differs."""

from datetime import timedelta

from csp.constants import NONCE
from django.utils.translation import gettext_lazy as _

from ._env import BASE_DIR, env, replica_databases, routers_for, with_prepared_statements

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "csp",
    "safeharbor.core",
    "safeharbor.accounts",
    "safeharbor.audit",
    "safeharbor.access",
    "safeharbor.youth",
    "django_tasks",  # contact: background e-mail and SMS through the tasks API
    "django_tasks_db",
    "safeharbor.contact",
    "safeharbor.screening",
    "safeharbor.research",
    "safeharbor.directory",
    "safeharbor.referrals",
    "safeharbor.outcomes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "safeharbor.accounts.middleware.SlidingSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "safeharbor.accounts.middleware.OTPMiddleware",
    "safeharbor.accounts.middleware.RequireMFAMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "safeharbor.core.middleware.NoStoreForSignedInMiddleware",
    # Last, so that it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "safeharbor" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "safeharbor.access.context_processors.navigation",
            ],
        },
    },
]

# SQLite by default so that `make run` needs nothing but Python; PostgreSQL through DATABASE_URL.
DATABASES = {
    "default": with_prepared_statements(
        env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE takes the write lock when a transaction starts, so the audit chain head is
        # read and advanced by one writer at a time and concurrent requests cannot fork it.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
    }
# Reports and the program dashboard may read from a read replica (DATABASE_REPLICA_URL).
DATABASES.update(replica_databases())
DATABASE_ROUTERS = routers_for(DATABASES)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "safeharbor.accounts.backends.MembershipModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Idle timeout: the session expires this many seconds after the last request, less at most
# SAFEHARBOR_SESSION_REFRESH_SECONDS (accounts.middleware.SlidingSessionMiddleware saves the new
# expiry at most that often, instead of writing the session on every request).
SAFEHARBOR_IDLE_TIMEOUT = env.int("SAFEHARBOR_IDLE_TIMEOUT", default=15 * 60)
SAFEHARBOR_SESSION_REFRESH_SECONDS = 60
SESSION_COOKIE_AGE = SAFEHARBOR_IDLE_TIMEOUT
# Django's database sessions, read with one hand-written statement (see the module).
SESSION_ENGINE = "safeharbor.accounts.session_store"
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# Lockout after repeated failed logins (django-axes).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
# Client IPs (lockout, audit): REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies the N-th
# X-Forwarded-For address from the right (safeharbor/core/client_ip.py).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "safeharbor.core.client_ip.client_ip"

OTP_TOTP_ISSUER = "Safe Harbor"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# One cache shared by all web processes in production (the API throttle): CACHE_URL, e.g.
# redis://127.0.0.1:6379/1. The default is per process, fine for one machine.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# Field encryption keys ("key-id:base64-32-bytes", comma separated, the first encrypts) and the
# separate blind-index key. Read lazily by safeharbor.core.crypto, never at import time.
SAFEHARBOR_DATA_KEYS = env.str("SAFEHARBOR_DATA_KEYS", default="")
SAFEHARBOR_BLIND_INDEX_KEY = env.str("SAFEHARBOR_BLIND_INDEX_KEY", default="")
# Background tasks (django-tasks backport; `manage.py db_worker` runs them) and text messages.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
SAFEHARBOR_SMS_SENDER = env.str(
    "SAFEHARBOR_SMS_SENDER", default="safeharbor.contact.sms.ConsoleSmsSender"
)
# Break-glass access lasts this long unless closed earlier.
SAFEHARBOR_BREAK_GLASS_MINUTES = env.int("SAFEHARBOR_BREAK_GLASS_MINUTES", default=60)
# A completed screening may be corrected in place this many days; after that, only amended.
SAFEHARBOR_SCREENING_EDIT_WINDOW_DAYS = env.int("SAFEHARBOR_SCREENING_EDIT_WINDOW_DAYS", default=7)
# Referrals: a service answers within this many hours, and records an outcome within this many
# days of accepting, or the referral is "waiting too long" (docs/referrals.md).
SAFEHARBOR_REFERRAL_REPLY_HOURS = env.int("SAFEHARBOR_REFERRAL_REPLY_HOURS", default=48)
SAFEHARBOR_REFERRAL_OUTCOME_DAYS = env.int("SAFEHARBOR_REFERRAL_OUTCOME_DAYS", default=30)
# Funder and county reports suppress counts below this (1 to 10 hidden by default).
SAFEHARBOR_SMALL_CELL = env.int("SAFEHARBOR_SMALL_CELL", default=11)

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="America/Los_Angeles")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "safeharbor" / "static"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["safeharbor.access.api.IsYouthDataUser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    # The API speaks JSON only (FHIR resources included); forms are for the pages.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env.str("API_USER_RATE", default="600/minute")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Safe Harbor API",
    "DESCRIPTION": "Youth records and consent to share. Every read is filtered by the access "
    "policy and audited.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets whose field names (status, outcome) other apps use for other sets.
    "ENUM_NAME_OVERRIDES": {
        "ReferralStatusEnum": "safeharbor.referrals.choices.Status",
        "ReferralOutcomeEnum": "safeharbor.referrals.choices.Outcome",
        "OutcomeEnum": "safeharbor.contact.choices.Outcome",
    },
}

# Content Security Policy: nothing inline but what carries the per-request nonce.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],  # django-csp 4's sentinel: the request's nonce
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}
