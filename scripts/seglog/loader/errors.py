"""Every error the loader raises, in one place: catch these, not the driver's.

Each message says what went wrong and what to do; LoadError's is redacted (a driver's error that
echoes a password or a key does not reach a log)."""

from __future__ import annotations

from ..redact import redact


class StatementFailed(RuntimeError):
    """A statement or batch that failed, was aborted or timed out (and was cancelled)."""

    def __init__(self, message: str, status: str, failed_sql: str | None = None, query_id: int | None = None):
        super().__init__(message)
        self.status = status
        self.failed_sql = failed_sql
        self.query_id = query_id  # Redshift's query id of the failed statement (for sys_load_error_detail)


class ConfigError(ValueError):
    """The Redshift connection settings are incomplete; the message lists what to set."""


class DdlError(ValueError):
    """A change the loader refuses to make; the message says what to do instead."""


class LoadError(RuntimeError):
    """A load that failed and was rolled back; the message says why and what to do. The message is
    redacted: a driver's error that echoes a password or a key does not reach a log."""

    def __init__(self, message: str):
        super().__init__(redact(message))


class ShrinkRefused(LoadError):
    """A whole-table load refused before it began: Spark's table lost rows the warehouse holds."""


class TypeMappingError(ValueError):
    """A column that cannot be loaded as it is; the message names the column and what to do."""


class SourceError(LookupError):
    """A model or date the loader cannot find; the message lists what exists and what to do."""
