{#-
  KST calendar keys, exactly as the legacy Redshift queries define them (docs/queries.md).
  Spark runs with spark.sql.session.timeZone=UTC; timestamps are converted to Asia/Seoul
  explicitly. Each macro takes a UTC timestamp expression.

    ymd  KST date as yyyy-MM-dd
    ym   KST month as yyyy-MM
    ywd  the Sunday that starts the event's week:
         Redshift (date_trunc('week', kst + 1 day) - 1 day)::date (date_trunc is Monday-based)
    yw   ISO year and ISO week of kst + 1 day, as IYYY-IW with a two-digit week
         (Redshift to_char(kst + 1 day, 'IYYY-IW')): 2020-53, 2021-01, 2023-07
-#}

{% macro to_kst(ts_utc) -%}
    from_utc_timestamp({{ ts_utc }}, 'Asia/Seoul')
{%- endmacro %}

{% macro kst_ymd(ts_utc) -%}
    date_format({{ to_kst(ts_utc) }}, 'yyyy-MM-dd')
{%- endmacro %}

{% macro kst_ym(ts_utc) -%}
    date_format({{ to_kst(ts_utc) }}, 'yyyy-MM')
{%- endmacro %}

{% macro kst_ywd(ts_utc) -%}
    date_sub(to_date(date_trunc('week', {{ to_kst(ts_utc) }} + interval 1 day)), 1)
{%- endmacro %}

{% macro kst_yw(ts_utc) -%}
    concat(
        cast(extract(yearofweek from date_add(to_date({{ to_kst(ts_utc) }}), 1)) as string),
        '-',
        lpad(cast(extract(week from date_add(to_date({{ to_kst(ts_utc) }}), 1)) as string), 2, '0')
    )
{%- endmacro %}

{#- The calendar columns every staged event carries, from its UTC timestamp. -#}
{% macro kst_calendar_columns(ts_utc) -%}
    {{ to_kst(ts_utc) }} as event_at_kst,
        {{ kst_ym(ts_utc) }} as ym,
        {{ kst_yw(ts_utc) }} as yw,
        {{ kst_ywd(ts_utc) }} as ywd,
        {{ kst_ymd(ts_utc) }} as ymd
{%- endmacro %}
