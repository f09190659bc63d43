"""WSGI entry point (gunicorn config.wsgi)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()

# What is loaded by now (Django, the apps, their modules) lives as long as the worker. Frozen, the
# collector's full passes no longer walk it: unfrozen, one pass every few dozen requests paused a
# page for 100-270 ms (docs/performance.md, foundation findings).
gc.freeze()
