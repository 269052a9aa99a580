{#-
  The well-formed events of a base lines model, each with
    event_ymd        its KST business date (yyyy-MM-dd)
    duplicate_rank   1 for the copy that is kept: Segment delivers at least once, so the
                     copies of one messageId are ranked by receivedAt (earliest wins), then
                     by file name and line text so that the choice is the same on every rerun
    window_status    owned / other_run / beyond_window / ahead_of_receipt (macro window_status)
  Dedup runs over every folder the run reads, before the window split, so the audit reads
  lines = quarantined + duplicates + staged + out of window.
-#}
{% macro segment_classified_events(base_relation) %}
with

events as (
    select *
    from ({{ segment_window_lines(base_relation) }})
    where reject_reason is null
),

ranked as (
    select
        events.*,
        {{ kst_ymd('`timestamp`') }} as event_ymd,
        row_number() over (
            partition by message_id
            order by received_at, file_name, raw_line
        ) as duplicate_rank
    from events
),

final as (
    select
        ranked.*,
        {{ window_status('event_ymd', 'received_day') }} as window_status
    from ranked
)

select * from final
{% endmacro %}
