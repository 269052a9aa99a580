"""The queries the harness compares (docs/queries.md Q01–Q17): model, grain key and partition.

The grain is docs/queries.md's "unique key" column (the same columns the models' `unique` /
`unique_combination_of_columns` tests use): rows of the legacy result and the mart are matched
on it. ``json_columns`` are compared as JSON values (parsed on both sides: key order and
whitespace do not matter, numbers compare as numbers), because Spark re-serialises an object it
keeps as text; every other column compares as a value (see compare.py).

A legacy query takes one business date (``:'ymd'``) and returns the rows of the partition that
holds it. For a model partitioned by week (``activity_ywd``, the Sunday that starts the week),
the harness asks for the last fixture date of each week and compares that week's partition.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta


@dataclass(frozen=True)
class Query:
    id: str
    model: str
    key: tuple[str, ...]
    partition: str = "ymd"
    json_columns: frozenset[str] = field(default_factory=frozenset)

    @property
    def weekly(self) -> bool:
        return self.partition.endswith("ywd")

    def partitions(self, dates: list[date]) -> list[tuple[str, date]]:
        """(partition value as in the warehouse folder name, the date the legacy query is run for)."""
        if not self.weekly:
            return [(d.isoformat(), d) for d in dates]
        weeks: dict[str, date] = {}
        for d in sorted(dates):
            weeks[(d - timedelta(days=d.isoweekday() % 7)).isoformat()] = d  # the last date of each week wins
        return sorted(weeks.items())


CATALOGUE: list[Query] = [
    Query("Q01", "segment_log", ("message_id",), json_columns=frozenset({"properties", "context"})),
    Query("Q02", "segment_log_session", ("session_id",)),
    Query("Q03", "procedure_log", ("message_id",)),
    Query("Q04", "daily_active_users", ("ymd", "platform", "is_identified")),
    Query("Q05", "active_users_rolling", ("ymd",)),
    Query("Q06", "page_views_daily", ("ymd", "page_name", "page_path")),
    Query("Q07", "article_views_daily", ("ymd", "article_id")),
    Query("Q08", "hospital_engagement_daily", ("ymd", "hospital_id")),
    Query("Q09", "button_clicks_daily", ("ymd", "button_name", "button_position")),
    Query("Q10", "sessions_daily", ("ymd", "platform")),
    Query("Q11", "new_vs_returning_daily", ("ymd",)),
    Query("Q12", "retention_weekly_cohorts", ("cohort_ywd", "weeks_since"), partition="activity_ywd"),
    Query("Q13", "traffic_sources_daily", ("ymd", "utm_source", "utm_medium", "utm_campaign", "referrer_domain")),
    Query("Q14", "search_keywords_daily", ("ymd", "keyword")),
    Query("Q15", "promotion_performance_daily", ("ymd", "promotion_id", "creative", "position")),
    Query("Q16", "hourly_traffic", ("ymd", "hour")),
    Query("Q17", "device_breakdown_daily", ("ymd", "device_class", "browser", "locale")),
]
BY_MODEL = {q.model: q for q in CATALOGUE}


def select(only: list[str] | None) -> list[Query]:
    """The queries named (by model or by id, e.g. segment_log or Q01); all when ``only`` is empty."""
    if not only:
        return list(CATALOGUE)
    by_id = {q.id.lower(): q for q in CATALOGUE}
    chosen, unknown = [], []
    for name in only:
        q = BY_MODEL.get(name) or by_id.get(name.lower())
        if q is None:
            unknown.append(name)
        elif q not in chosen:
            chosen.append(q)
    if unknown:
        raise KeyError(f"unknown quer{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown)}; known: "
                       + ", ".join(f"{q.id} {q.model}" for q in CATALOGUE))
    return sorted(chosen, key=lambda q: q.id)
