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
