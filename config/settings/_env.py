"""Read configuration from the environment, failing with one clear line instead of a traceback."""

import sys
from pathlib import Path
from typing import Any, NoReturn

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()


def read_dotenv() -> None:
    """Development only: read the git-ignored .env that `make run` writes (real variables win)."""
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def _stop(message: str) -> NoReturn:
    sys.stderr.write(f"Safe Harbor cannot start: {message} See docs/deploy.md.\n")
    raise SystemExit(2)


def email_settings(name: str) -> dict[str, Any]:
    """EMAIL_HOST, EMAIL_PORT, ... from a URL such as smtp+tls://user:password@host:587."""
    try:
        return dict(env.email_url(name))
    except (ImproperlyConfigured, ValueError):
        _stop(f"{name} is not an e-mail URL (use smtp+tls://user:password@host:587).")


def require(name: str) -> str:
    """Return the variable or stop start-up with one line naming it."""
    value = env.str(name, default="")
    if not value:
        sys.stderr.write(
            f"Safe Harbor cannot start: the environment variable {name} is not set. "
            "See docs/deploy.md for what it must contain.\n"
        )
        raise SystemExit(2)
    return value


def with_prepared_statements(config: dict[str, Any]) -> dict[str, Any]:
    """PostgreSQL: bind parameters on the server and let psycopg prepare a statement the
    connection has run ``DATABASE_PREPARE_THRESHOLD`` times (default 5; 0 turns preparing
    off, for a pooler in transaction mode that cannot keep prepared statements). The hot
    pages repeat a few long statements; planning each again cost 0.2-0.5 ms per statement.
    Other databases are returned unchanged."""
    if config.get("ENGINE") != "django.db.backends.postgresql":
        return config
    threshold = env.int("DATABASE_PREPARE_THRESHOLD", default=5)
    options = config.setdefault("OPTIONS", {})
    options.setdefault("server_side_binding", True)
    options.setdefault("prepare_threshold", threshold if threshold > 0 else None)
    return config


def replica_databases() -> dict[str, dict[str, Any]]:
    """``{"replica": ...}`` from DATABASE_REPLICA_URL (a read replica that the reports read,
    see safeharbor/core/routing.py), or nothing when it is not set. Tests read the primary's
    test database through it (``MIRROR``) instead of creating another."""
    url = env.str("DATABASE_REPLICA_URL", default="")
    if not url:
        return {}
    try:
        config = environ.Env.db_url_config(url)
    except (ImproperlyConfigured, ValueError):
        config = {}
    if config.get("ENGINE") not in environ.Env.DB_SCHEMES.values() or not config.get("NAME"):
        _stop("DATABASE_REPLICA_URL is not a database URL (use postgres://user@host:5432/name).")
    config["TEST"] = {"MIRROR": "default"}
    return {"replica": with_prepared_statements(config)}


def routers_for(databases: dict[str, Any]) -> list[str]:
    """The reporting router where a replica is configured; no router otherwise."""
    return ["safeharbor.core.routing.ReportingReplicaRouter"] if "replica" in databases else []
