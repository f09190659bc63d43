"""Read configuration from the environment, failing with one clear line instead of a traceback."""

import sys
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()


def read_dotenv() -> None:
    """Development only: read the git-ignored .env that `make run` writes (real variables win)."""
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


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
