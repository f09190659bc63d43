from .factories import rworld  # noqa: F401  (a fixture)
