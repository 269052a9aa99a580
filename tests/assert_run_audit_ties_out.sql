{#-
  The run's audit ties out, each number checked against a second path:
    - lines_read      = a fresh count of the raw files' lines (re-read as text, not parsed;
                        this assumes the folders read are complete, as the daily DAG ensures)
    - lines_read      = quarantined + duplicates + events_staged + out_of_window
    - events_staged   = rows of the staging tables in the owned partitions
    - quarantined     = malformed rows of segment_quarantine for the folders read
    - kept_aside      = outside_window rows of segment_quarantine for the folders read
    - segment_log / procedure_log rows = staging rows in the owned partitions
  Returns one row per failed check (no rows = pass).
-#}
{%- set owned = sql_string_list(owned_ymds()) -%}
{%- set days = [] -%}
{%- for day in received_days() -%}{%- do days.append(day.isoformat()) -%}{%- endfor -%}

with

audit as (
    select *
    from {{ ref('segment_run_audit') }}
    where run_ymd = '{{ run_date() }}'
),

raw_lines as (
    select file_name from ({{ segment_raw_lines('web_app_events') }})
    union all
    select file_name from ({{ segment_raw_lines('procedure_events') }})
),

raw_counts as (
    select
        {{ segment_source_key(segment_file_source_id('file_name')) }} as source_key,
        count(*) as lines
    from raw_lines
    group by source_key
),

{#- rows per source in the owned partitions: of the staging tables, and of the marts -#}
{%- for cte, events_model, procedure_model in [
    ('staged', 'stg_segment__events', 'stg_segment__procedure_events'),
    ('marts', 'segment_log', 'procedure_log'),
] %}

    {{ cte }} as (
        select
            platform as source_key,
            count(*) as events
        from {{ ref(events_model) }}
        where ymd in {{ owned }}
        group by platform
        union all
        select
            'procedure' as source_key,
            count(*) as events
        from {{ ref(procedure_model) }}
        where ymd in {{ owned }}
    ),
{% endfor %}

set_aside as (
    select
        source_key,
        count_if(kind = 'malformed') as malformed,
        count_if(kind = 'outside_window') as outside_window
    from {{ ref('segment_quarantine') }}
    where received_ymd in {{ sql_string_list(days) }}
    group by source_key
),

checks as (
    select
        audit.source_key,
        audit.lines_read,
        raw_counts.lines as raw_lines,
        audit.quarantined + audit.duplicates + audit.events_staged + audit.out_of_window as accounted,
        audit.events_staged,
        coalesce(staged.events, 0) as staged_rows,
        coalesce(marts.events, 0) as mart_rows,
        audit.quarantined,
        coalesce(set_aside.malformed, 0) as quarantine_rows,
        audit.kept_aside,
        coalesce(set_aside.outside_window, 0) as kept_aside_rows
    from audit
    left join raw_counts on audit.source_key = raw_counts.source_key
    left join staged on audit.source_key = staged.source_key
    left join marts on audit.source_key = marts.source_key
    left join set_aside on audit.source_key = set_aside.source_key
),

expected_sources as (
    select explode(array('web', 'app', 'procedure')) as source_key
)

select
    checks.*,
    'numbers disagree' as problem
from checks
where
    -- <=> is null-safe: a missing count is a failure, not a pass
    not checks.lines_read <=> checks.raw_lines
    or not checks.lines_read <=> checks.accounted
    or not checks.events_staged <=> checks.staged_rows
    or not checks.events_staged <=> checks.mart_rows
    or not checks.quarantined <=> checks.quarantine_rows
    or not checks.kept_aside <=> checks.kept_aside_rows

union all

select
    expected_sources.source_key,
    null as lines_read,
    null as raw_lines,
    null as accounted,
    null as events_staged,
    null as staged_rows,
    null as mart_rows,
    null as quarantined,
    null as quarantine_rows,
    null as kept_aside,
    null as kept_aside_rows,
    'no audit row for this source' as problem
from expected_sources
left anti join audit on expected_sources.source_key = audit.source_key
