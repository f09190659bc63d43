from safeharbor.core.tests.personas import world  # noqa: F401  (the shared personas fixture)
