"""seglog: the Python around the dbt project (sample generator, runner, checks; one CLI)."""

__version__ = "0.1.0"
