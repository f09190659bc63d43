"""System checks: a deployment that would leak or lose data refuses to start."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

from .crypto import parse_keyring


@register(Tags.security, deploy=True)
def check_production_database(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        return [
            Error(
                "Production must not run on SQLite.",
                hint="Set DATABASE_URL to a PostgreSQL 15+ database.",
                id="safeharbor.E001",
            )
        ]
    return []


@register(Tags.security)
def check_keys(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    try:
        parse_keyring(settings.SAFEHARBOR_DATA_KEYS, settings.SAFEHARBOR_BLIND_INDEX_KEY)
    except ImproperlyConfigured as exc:
        return [Error(str(exc), hint="See docs/deploy.md, 'Keys'.", id="safeharbor.E002")]
    data_keys = settings.SAFEHARBOR_DATA_KEYS
    if settings.SAFEHARBOR_BLIND_INDEX_KEY in data_keys:
        return [
            Error(
                "The blind-index key must differ from every data key.",
                hint="Generate a separate key so one leak does not give both.",
                id="safeharbor.E003",
            )
        ]
    return []
