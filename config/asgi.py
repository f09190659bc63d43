"""ASGI entry point."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_asgi_application()

# As in wsgi.py: keep what is loaded by now out of the collector's full passes.
gc.freeze()
