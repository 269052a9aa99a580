{{
    config(
        materialized='incremental',
        incremental_strategy='insert_overwrite',
        partition_by=['received_ymd'],
    )
}}

{#-
  Lines set aside, never dropped: malformed lines (reject_reason of the base models) and
  well-formed events that no run will stage because they fall outside every run's window
  (beyond_window, ahead_of_receipt). Partitioned by the received day of the folder they were
  read from; every run rewrites the folders it reads (D-L-1..D), so a rerun gives the same rows.
-#}

with

malformed as (
    select
        source_key,
        source_id,
        file_name,
        received_day,
        reject_reason as reason,
        message_id,
        `timestamp` as event_at_utc,
        raw_line
    from {{ ref('base_segment__web_app_lines') }}
    where reject_reason is not null
    union all
    select
        source_key,
        source_id,
        file_name,
        received_day,
        reject_reason as reason,
        message_id,
        `timestamp` as event_at_utc,
        raw_line
    from {{ ref('base_segment__procedure_lines') }}
    where reject_reason is not null
),

outside_every_window as (
    select
        source_key,
        source_id,
        file_name,
        received_day,
        window_status as reason,
        message_id,
        `timestamp` as event_at_utc,
        raw_line
    from {{ ref('base_segment__web_app_events') }}
    where duplicate_rank = 1 and window_status in ('beyond_window', 'ahead_of_receipt')
    union all
    select
        source_key,
        source_id,
        file_name,
        received_day,
        window_status as reason,
        message_id,
        `timestamp` as event_at_utc,
        raw_line
    from {{ ref('base_segment__procedure_events') }}
    where duplicate_rank = 1 and window_status in ('beyond_window', 'ahead_of_receipt')
),

unioned as (
    select
        *,
        'malformed' as kind
    from malformed
    union all
    select
        *,
        'outside_window' as kind
    from outside_every_window
),

final as (
    select
        source_key,
        source_id,
        file_name,
        kind,
        reason,
        message_id,
        event_at_utc,
        raw_line,
        date_format(received_day, 'yyyy-MM-dd') as received_ymd
    from unioned
)

select * from final
