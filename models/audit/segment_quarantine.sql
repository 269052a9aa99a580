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
  (beyond_window, ahead_of_receipt), every copy of them. Partitioned by the received day of
  the folder they were read from. What lands in a folder's partition depends on that folder's
  lines alone (not on dedup against other folders), so every run that reads the folder
  (D-L-1..D) writes the same rows, in any order.
-#}

{%- set sources = ['web_app', 'procedure'] -%}

with

malformed as (
    {%- for source in sources %}
        select
            source_key,
            source_id,
            file_name,
            received_day,
            reject_reason as reason,
            message_id,
            `timestamp` as event_at_utc,
            raw_line,
            raw_line_base64
        from {{ ref('base_segment__' ~ source ~ '_lines') }}
        where reject_reason is not null
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

outside_every_window as (
    {%- for source in sources %}
        select
            source_key,
            source_id,
            file_name,
            received_day,
            window_status as reason,
            message_id,
            `timestamp` as event_at_utc,
            raw_line,
            raw_line_base64
        from {{ ref('base_segment__' ~ source ~ '_events') }}
        where window_status in ('beyond_window', 'ahead_of_receipt')
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
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
        raw_line_base64,
        date_format(received_day, 'yyyy-MM-dd') as received_ymd
    from unioned
)

select * from final
