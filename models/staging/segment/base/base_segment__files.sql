{#-
  Every file of the run's folders (D-L-1..D), from the listing, with the lines read from it and
  what became of it (file_status):
    read             a .gz file whose lines add up to the size its gzip trailer declares
    truncated        a .gz file that gave lines but ends before its trailer: a file cut short
                     (the last 4 bytes are not a size its content can have, see below)
    corrupt          a .gz file that gave lines and has a trailer, but the bytes read fall short
                     of it or exceed it: the stream failed its CRC or a data check on the way
    unreadable_file  a .gz file that gave no line (not gzip, corrupt from its start, or gzip of nothing)
    not_gz           a file whose name does not end in .gz (`.json`, `.GZ`, …): not read
    nested           a file in a folder below the received-day folder: not read
  Every status but read is set aside in segment_quarantine (kind 'file') and counted in the run
  audit. The lines a truncated or corrupt file gave before the fault are read as any other.
  Files whose name starts with `_` or `.` (hidden) are not here: Spark's listing never returns
  them; `seglog run` and the DAG list the folders themselves and count them.
  A 0-byte file is not listed (Spark's file scans skip empty files): it holds no line to lose.

  The check: a gzip file ends with the size of its content modulo 2^32 (RFC 1952), read with the
  parse (file_declared_bytes, macro segment_file_trailers). The lines give their bytes plus one
  newline each (two for CRLF), the last one maybe without. A declared size within that is read;
  a declared size above what was read by at most 64 times (the most a cut-short read of JSON can
  miss before the trailer is a better explanation than chance) and within deflate's 1,032:1 of
  the file's size is a trailer: corrupt; any other is not a trailer: truncated. (A cut file whose
  last 4 bytes happen to fall in that range is called corrupt: about 64 × bytes read / 2^32 of
  them, 1.6 % for 1 MB read. Both statuses mean the same loss.) A line folder parsed before the
  check existed has no declared size: its files are read.
-#}

with

listed as (
    select
        path as file_name,
        length as bytes
    from {{ segment_raw_view('web_app_events', 'binaryFile') }}
    union all
    select
        path as file_name,
        length as bytes
    from {{ segment_raw_view('procedure_events', 'binaryFile') }}
),

line_files as (
    select
        file_name,
        line_bytes,
        file_declared_bytes
    from ({{ segment_window_lines(ref('base_segment__web_app_lines')) }})
    union all
    select
        file_name,
        line_bytes,
        file_declared_bytes
    from ({{ segment_window_lines(ref('base_segment__procedure_lines')) }})
),

lines_per_file as (
    select
        {{ segment_file_key('file_name') }} as file_key,
        count(*) as lines,
        sum(line_bytes) as line_bytes,
        max(file_declared_bytes) as declared_bytes
    from line_files
    group by 1
),

located as (
    select
        listed.file_name,
        listed.bytes,
        regexp_extract(listed.file_name, '/[0-9]{13}/(.*)$', 1) as name_in_folder,
        -- the folder above the received-day folder (a nested file has more below it)
        regexp_extract(listed.file_name, '/([^/]+)/[0-9]{13}/', 1) as source_id,
        to_date(timestamp_millis(cast(regexp_extract(listed.file_name, '/([0-9]{13})/', 1) as bigint))) as received_day,
        coalesce(lines_per_file.lines, 0) as lines,
        lines_per_file.line_bytes,
        lines_per_file.declared_bytes
    from listed
    left join lines_per_file
        on listed.file_name rlike '{{ segment_file_pattern() }}'
            and {{ segment_file_key('listed.file_name') }} = lines_per_file.file_key
),

checked as (
    select
        *,
        -- the declared size minus the lines' bytes, modulo 2^32: what the newlines must account for
        pmod(declared_bytes - line_bytes, 4294967296) as unexplained_bytes
    from located
),

final as (
    select
        {{ segment_source_key('source_id') }} as source_key,
        source_id,
        file_name,
        received_day,
        bytes,
        lines,
        declared_bytes,
        case
            when name_in_folder like '%/%' then 'nested'
            when name_in_folder not like '%.gz' then 'not_gz'
            when lines = 0 then 'unreadable_file'
            when declared_bytes is null or unexplained_bytes between lines - 1 and 2 * lines then 'read'
            when
                declared_bytes > line_bytes and declared_bytes <= 64 * (line_bytes + lines)
                and declared_bytes <= 1032 * bytes
                then 'corrupt'
            else 'truncated'
        end as file_status
    from checked
)

select * from final
