{{
    config(
        partition_by=['received_ymd'],
    )
}}

{#-
  Lines set aside, never dropped: malformed lines (reject_reason of the base models),
  well-formed events that no run will stage because they fall outside every run's window
  (beyond_window, ahead_of_receipt), every copy of them, and the files that gave no line
  (kind 'file', reason unreadable_file; one row per file, no raw_line). Partitioned by the received day of
  the folder they were read from. What lands in a folder's partition depends on that folder's
  lines alone (not on dedup against other folders), so every run that reads the folder
  (D-L-1..D) writes the same rows, in any order.
-#}

{#- (base model, kind, column holding the reason, which rows are set aside) -#}
{%- set set_aside_from = [] -%}
{%- for lines, events in zip(segment_base_models('lines'), segment_base_models('events')) -%}
    {%- do set_aside_from.append((lines, 'malformed', 'reject_reason', 'reject_reason is not null')) -%}
    {%- do set_aside_from.append((events, 'outside_window', 'window_status', "window_status in ('beyond_window', 'ahead_of_receipt')")) -%}
{%- endfor -%}

with

unioned as (
    {%- for model, kind, reason_column, condition in set_aside_from %}
        select
            source_key,
            source_id,
            file_name,
            received_day,
            '{{ kind }}' as kind,
            {{ reason_column }} as reason,
            message_id,
            `timestamp` as event_at_utc,
            raw_line,
            raw_line_base64
        from ({{ segment_window_lines(ref(model)) }})
        where {{ condition }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

unreadable_files as (
    select
        source_key,
        source_id,
        file_name,
        received_day,
        'file' as kind,
        file_status as reason,
        cast(null as string) as message_id,
        cast(null as timestamp) as event_at_utc,
        cast(null as string) as raw_line,
        cast(null as string) as raw_line_base64
    from {{ ref('base_segment__files') }}
    where file_status != 'read'
),

set_aside as (
    select * from unioned
    union all
    select * from unreadable_files
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
    from set_aside
)

select * from final
