"""One model's load, target-independent: the rows to load, their warehouse types, and which
partitions of the warehouse table they replace. Both paths (_postgres.py, _redshift.py) take it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable

import pyarrow as pa

from ._ddl import quote
from ._load_checksums import spark_side
from ._type_mapping import ColumnType, map_table
from ._source import Model, Warehouse, typed_partition_value

Step = Callable[[str], None]  # reports the step a load is at ("staging", "replacing", …), for progress


def no_step(_: str) -> None:
    return None


@dataclass
class TableLoad:
    model: str
    schema: str
    table: str
    data: pa.Table  # every row of the partitions below (the whole table when partition is None)
    columns: list[ColumnType]
    partition: str | None  # None: the load replaces the whole table
    values: list[str]  # the partitions replaced, as in folder names ("2023-11-08"); [] for a whole table
    partition_type: str = "string"  # "date" when the warehouse column is a DATE
    grain: list[str] = field(default_factory=list)  # the unique key, checksummed by the reconciliation
    no_rows_yet: bool = False  # the Spark table has no row at all: create the table, load nothing

    @property
    def target(self) -> str:
        return f"{quote(self.schema)}.{quote(self.table)}"

    @property
    def names(self) -> str:
        return ", ".join(quote(c.name) for c in self.columns)

    def typed_values(self) -> list[Any]:
        return [typed_partition_value(v, self.partition_type) for v in self.values]

    def expected(self) -> dict[str, tuple[int, int | None]]:
        return spark_side(self.data, self.partition, self.values, self.grain)


def plan(model: Model, warehouse: Warehouse, days: list[date], dialect: str) -> TableLoad:
    """Read the model's rows of the partitions holding ``days`` and derive their types."""
    return plan_partitions(model, warehouse, model.partition_values(days), dialect)


def plan_partitions(model: Model, warehouse: Warehouse, values: list[str], dialect: str) -> TableLoad:
    """Read the model's rows of the partitions ``values`` (the whole table when it has none) and derive their types."""
    data = model.read(warehouse, values)
    key = model.key_columns[0] if model.key_columns else None  # names the row of an over-long value
    columns = map_table(data, dialect, model.column_meta, key)
    return TableLoad(model.name, model.schema, model.table, data, columns, model.partition, values,
                     model.partition_type, model.grain, model.holds_no_rows(warehouse, data))
