"""Events one capability announces about a youth and another acts on, without importing it.

``screening_completed``: a screening of the youth was completed (not a draft, not an
amendment). Sent inside the screening's transaction, so a receiver's writes commit or roll back
with it. Keyword arguments: ``actor``, ``youth``, ``completed_at``.
"""

from django.dispatch import Signal

screening_completed = Signal()
