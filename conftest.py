"""Project-wide pytest fixtures: named personas and a demo world built through services."""

pytest_plugins = ["safeharbor.core.tests.personas"]
