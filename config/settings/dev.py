"""Local development: `make run`. Keys come from the git-ignored .env that `make run` writes."""

from ._env import read_dotenv, require

read_dotenv()

from .base import *  # noqa: E402, F403

DEBUG = True
SECRET_KEY = require("SECRET_KEY")
SAFEHARBOR_DATA_KEYS = require("SAFEHARBOR_DATA_KEYS")
SAFEHARBOR_BLIND_INDEX_KEY = require("SAFEHARBOR_BLIND_INDEX_KEY")
SAFEHARBOR_ALLOW_AUDIT_FLUSH = True

# Serve static files from the app folders without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
