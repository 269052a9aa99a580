"""Where things are: project paths and the default vars read from dbt_project.yml.

dbt_project.yml is the single source of truth for the defaults (date, window, source ids);
the Python side reads them instead of repeating them.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

PROJECT_DIR = Path(os.environ.get("SEGLOG_HOME", Path(__file__).resolve().parents[2]))
DATA_DIR = PROJECT_DIR / "data"
SAMPLE_ROOT = DATA_DIR / "sample" / "segment-logs"


def schema_folder(schema: str) -> str:
    """The folder name Spark gives a schema in its warehouse (``SEGLOG_SCHEMA_PREFIX`` lets tests use their own)."""
    return f"{os.environ.get('SEGLOG_SCHEMA_PREFIX', '')}{schema}.db"


def spark_dir() -> Path:
    """The folder holding Spark's local warehouse and Derby metastore (profiles.yml reads the same)."""
    return Path(os.environ.get("SEGLOG_SPARK_DIR", DATA_DIR / "spark")).resolve()


@lru_cache(maxsize=1)
def default_vars() -> dict[str, Any]:
    with open(PROJECT_DIR / "dbt_project.yml", encoding="utf-8") as fh:
        return dict(yaml.safe_load(fh)["vars"])
