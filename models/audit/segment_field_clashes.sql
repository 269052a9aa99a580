{{
    config(
        partition_by=['run_ymd'],
    )
}}

{#-
  A tracking plan's drift, seen rather than silent: per run date, source, declared field and
  outcome, how many lines of the folders the run read (every copy; quarantined lines are not
  events and are not counted here) had a value of another type in that field. outcome nulled:
  the column is null and the event staged; kept_as_text: an id sent as a number keeps its
  decimal text. One sample line per row (the least messageId, its file) to look at.
  Partitioned by run_ymd, like segment_run_audit: a rerun replaces its rows.
-#}

with

lines as (
    {%- for model in segment_base_models('lines') %}
        select
            source_key,
            message_id,
            file_name,
            field_clashes
        from ({{ segment_window_lines(ref(model)) }})
        where reject_reason is null and size(field_clashes) > 0
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

clashes as (
    select
        lines.source_key,
        lines.message_id,
        lines.file_name,
        exploded.clash.field,
        exploded.clash.outcome
    from lines
        lateral view explode(lines.field_clashes) exploded as clash
),

final as (
    select
        source_key,
        field,
        outcome,
        count(*) as lines,
        min(named_struct('message_id', message_id, 'file_name', file_name)).message_id as sample_message_id,
        min(named_struct('message_id', message_id, 'file_name', file_name)).file_name as sample_file_name,
        '{{ run_date() }}' as run_ymd
    from clashes
    group by source_key, field, outcome
)

select * from final
