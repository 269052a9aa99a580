"""Loading finished Spark tables into Redshift (locally: the PostgreSQL that stands in for it).

The package's public face is what this module exports; the modules behind it are private (their
names start with `_`) and may change:

    load           plan(), load_all() with a PostgresTarget or a RedshiftTarget (TARGETS names them),
                   dry_run() (what a load would send), owned_dates(); the Spark side: Warehouse,
                   loadable_models(), select_models()
    type mapping   map_table() and ColumnType: the column types of both targets, derived from the
                   Parquet data of the dates being loaded (_type_mapping.py); create_table() for
                   the DDL they give
    Redshift       DataApi (the Redshift Data API client), check_staging_uri(), check_role_arn()
    recount        the scheduler's check, independent of the load: recount the warehouse's rows
                   and compare them with the counts the Spark job wrote (`recount.compare`, its
                   outcome `recount.Recount`). Not the load's own reconciliation
                   (_load_checksums.py: count and key checksum per partition, inside each load's
                   transaction)
    errors         every error the loader raises (errors.py)

Each name is imported when first used (PEP 562), so a caller pays only for the drivers its path
needs: the EMR job asks for loadable_models() and must not import psycopg, which its archive
does not hold (tests/python/test_package_imports.py checks it).
"""

from __future__ import annotations

import importlib
from typing import Any

from .errors import ConfigError, DdlError, LoadError, SourceError, StatementFailed, TypeMappingError

_WHERE = {
    "recount": "._recount", "DataApi": "._data_api", "create_table": "._ddl", "plan": "._plan",
    "check_role_arn": "._redshift", "check_staging_uri": "._redshift",
    **{name: "._run" for name in ("TARGETS", "PostgresTarget", "RedshiftTarget", "dry_run", "load_all", "owned_dates")},
    **{name: "._source" for name in ("Warehouse", "loadable_models", "select_models")},
    **{name: "._type_mapping" for name in ("ColumnType", "map_table")},
}

__all__ = sorted([*_WHERE, "ConfigError", "DdlError", "LoadError", "SourceError", "StatementFailed",
                  "TypeMappingError"])


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(_WHERE[name], __name__)
    value = module if name == "recount" else getattr(module, name)
    globals()[name] = value
    return value
