"""Loading finished Spark tables into Redshift (locally: the PostgreSQL that stands in for it).

The package's public face is what this module exports; the modules behind it are private (their
names start with `_`) and may change:

    load           plan(), load_all() with a PostgresTarget or a RedshiftTarget (TARGETS names them),
                   dry_run() (what a load would send), owned_dates(); the Spark side: Warehouse, loadable_models(), select_models()
    type mapping   map_table() and ColumnType: the column types of both targets, derived from the
                   Parquet data of the dates being loaded (_type_mapping.py); create_table() for
                   the DDL they give
    Redshift       DataApi (the Redshift Data API client), check_staging_uri(), check_role_arn()
    recount        the scheduler's check, independent of the load: recount the warehouse's rows
                   and compare them with the counts the Spark job wrote (`recount.compare`, its
                   outcome `recount.Recount`).
                   Not the load's own reconciliation (_load_checksums.py: count and key checksum
                   per partition, inside each load's transaction)
    errors         every error the loader raises (errors.py)
"""

from . import _recount as recount
from ._data_api import DataApi
from ._ddl import create_table
from ._plan import plan
from ._redshift import check_role_arn, check_staging_uri
from ._run import TARGETS, PostgresTarget, RedshiftTarget, dry_run, load_all, owned_dates
from ._source import Warehouse, loadable_models, select_models
from ._type_mapping import ColumnType, map_table
from .errors import ConfigError, DdlError, LoadError, SourceError, StatementFailed, TypeMappingError

__all__ = ["TARGETS", "ColumnType", "ConfigError", "DataApi", "DdlError", "LoadError", "PostgresTarget",
           "RedshiftTarget", "SourceError", "StatementFailed", "TypeMappingError", "Warehouse", "check_role_arn",
           "check_staging_uri", "create_table", "dry_run", "load_all", "loadable_models", "map_table", "owned_dates", "plan",
           "recount", "select_models"]
