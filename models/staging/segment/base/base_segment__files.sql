{#-
  Every .gz file of the run's folders (D-L-1..D), from the listing, with the lines read from
  it. A file that gave no line is set aside (segment_quarantine, kind 'file', reason
  unreadable_file: not gzip, corrupt from its start, or gzip of nothing), never skipped unseen.
  A 0-byte file is not listed (Spark's file scans skip empty files): it holds no line to lose.
  The read skips what it cannot decompress (ignoreCorruptFiles, macro segment_raw_lines), so
  a bad file costs its own lines only, never the run. A gzip cut short keeps the lines before
  the cut; the cut line is malformed_json.
-#}

with

listed as (
    select
        file_name,
        bytes
    from ({{ segment_raw_files('web_app_events') }})
    union all
    select
        file_name,
        bytes
    from ({{ segment_raw_files('procedure_events') }})
),

line_files as (
    select file_name from ({{ segment_window_lines(ref('base_segment__web_app_lines')) }})
    union all
    select file_name from ({{ segment_window_lines(ref('base_segment__procedure_lines')) }})
),

lines_per_file as (
    select
        {{ segment_file_key('file_name') }} as file_key,
        count(*) as lines
    from line_files
    group by 1
),

located as (
    select
        listed.file_name,
        listed.bytes,
        {{ segment_file_source_id('listed.file_name') }} as source_id,
        {{ segment_file_received_day('listed.file_name') }} as received_day,
        coalesce(lines_per_file.lines, 0) as lines
    from listed
    left join lines_per_file
        on {{ segment_file_key('listed.file_name') }} = lines_per_file.file_key
),

final as (
    select
        {{ segment_source_key('source_id') }} as source_key,
        source_id,
        file_name,
        received_day,
        bytes,
        lines,
        case when lines > 0 then 'read' else 'unreadable_file' end as file_status
    from located
)

select * from final
