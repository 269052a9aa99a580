{{
    config(
        partition_by=['run_ymd'],
    )
}}

{#-
  One row per run date and source: what the run read and where every line went.
    lines_read = quarantined + duplicates + events_staged + out_of_window
  out_of_window counts well-formed events (first copies) outside this run's partitions.
  kept_aside counts the well-formed lines (every copy) that no run will stage, the rows of
  segment_quarantine with kind 'outside_window' for the folders read; it is not a term of the sum.
  files_read counts the .gz files of the folders read; files_unreadable those that gave no line
  (not gzip, corrupt: segment_quarantine kind 'file'; a 0-byte file is not listed); their lines are in no count.
  files_truncated and files_corrupt count the .gz files that gave lines but fewer than their gzip
  trailer declares (cut short; failed a check): the lines before the fault are counted as read,
  the rest are in no count. files_skipped counts the files not read by name (not_gz, nested);
  hidden files (`_x`, `.x`) Spark never lists (base_segment__files).
  events_without_ids counts staged events with neither anonymousId nor userId: they are in
  segment_log but in no session and no user count (docs/queries.md Q02); not a term of the sum either.
  field_clashes counts the fields of the lines read (not quarantined) whose value had another
  type than declared: nulled, or an id kept as its text (per field: audit.segment_field_clashes).
-#}

{%- set owned = owned_ymds() -%}

with

lines as (
    {%- for model in segment_base_models('lines') %}
        select
            source_key,
            reject_reason,
            field_clashes
        from ({{ segment_window_lines(ref(model)) }})
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

events as (
    {%- for model in segment_base_models('events') %}
        select
            source_key,
            duplicate_rank,
            window_status,
            anonymous_id is null and user_id is null as has_no_id
        from {{ ref(model) }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

line_counts as (
    select
        source_key,
        count(*) as lines_read,
        count(reject_reason) as quarantined,
        coalesce(sum(size(field_clashes)) filter (where reject_reason is null), 0) as field_clashes
    from lines
    group by source_key
),

event_counts as (
    select
        source_key,
        count_if(duplicate_rank > 1) as duplicates,
        count_if({{ is_staged() }}) as events_staged,
        count_if(duplicate_rank = 1 and window_status != 'owned') as out_of_window,
        count_if(window_status in ('beyond_window', 'ahead_of_receipt')) as kept_aside,
        count_if({{ is_staged() }} and has_no_id) as events_without_ids
    from events
    group by source_key
),

file_counts as (
    select
        source_key,
        count_if(file_status not in ('not_gz', 'nested')) as files_read,
        count_if(file_status = 'unreadable_file') as files_unreadable,
        count_if(file_status = 'truncated') as files_truncated,
        count_if(file_status = 'corrupt') as files_corrupt,
        count_if(file_status in ('not_gz', 'nested')) as files_skipped
    from {{ ref('base_segment__files') }}
    group by source_key
),

final as (
    select
        line_counts.source_key,
        {{ run_vars()['late_arrival_days'] }} as late_arrival_days,
        '{{ owned[0] }}' as owned_from_ymd,
        '{{ owned[-1] }}' as owned_to_ymd,
        line_counts.lines_read,
        line_counts.quarantined,
        coalesce(event_counts.duplicates, 0) as duplicates,
        coalesce(event_counts.events_staged, 0) as events_staged,
        coalesce(event_counts.out_of_window, 0) as out_of_window,
        coalesce(event_counts.kept_aside, 0) as kept_aside,
        coalesce(event_counts.events_without_ids, 0) as events_without_ids,
        coalesce(file_counts.files_read, 0) as files_read,
        coalesce(file_counts.files_unreadable, 0) as files_unreadable,
        coalesce(file_counts.files_truncated, 0) as files_truncated,
        coalesce(file_counts.files_corrupt, 0) as files_corrupt,
        coalesce(file_counts.files_skipped, 0) as files_skipped,
        line_counts.field_clashes,
        '{{ run_date() }}' as run_ymd
    from line_counts
    left join event_counts on line_counts.source_key = event_counts.source_key
    left join file_counts on line_counts.source_key = file_counts.source_key
)

select * from final
