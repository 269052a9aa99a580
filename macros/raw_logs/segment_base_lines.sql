{#-
  Every raw line of the run's window for one table of the `segment` source: parsed with the
  declared schema, flattened, and classified. A line that cannot become an event gets a
  `reject_reason` (and is quarantined downstream); the others have reject_reason null.

  Reasons, checked in this order (a line is quarantined only when it cannot be an event):
    empty_line          nothing but whitespace
    line_too_long       longer than segment_max_line_bytes() (65,535 bytes; not parsed). Segment
                        caps a message at 32 KB, and no column of a longer line could be loaded
                        into Redshift, whose VARCHAR holds at most 65,535 bytes.
    invalid_utf8        bytes that are not valid UTF-8 (not parsed; exact bytes in raw_line_base64)
    json_array          a JSON array instead of one event object
    not_json            does not start with '{'
    malformed_json      not parseable JSON (e.g. truncated, even after a readable messageId)
    invalid_id          an id field (messageId, userId, anonymousId, previousId, groupId) holds
                        an object or an array: whose event it is cannot be told
    missing_message_id  no usable messageId (absent, null, blank, or not a string/number): cannot be deduplicated
    missing_timestamp   no timestamp (no business date)
    invalid_timestamp   a timestamp that is not a time (no business date)
    missing_received_at no receivedAt (cannot pick the earliest copy)
    invalid_received_at a receivedAt that is not a time
    missing_type        no type
    unknown_type        a type that is not one of Segment's six calls (segment_call_types()),
                        whatever its JSON kind

  Any other declared field whose value has another type costs that field only: its column is
  null, the event is staged, and the clash is listed in `field_clashes` (counted by
  audit.segment_field_clashes); an id sent as a number keeps its decimal text and is listed
  too (see segment_parse_columns).
-#}
{% macro segment_base_lines(table_name, glob=none, create_view=true) %}
{%- set p = segment_parse_columns(table_name, 'parse_text') -%}
{#- Why a line cannot be an event at all (null when it can; the typed values are checked in
    `final`). A line Spark flagged that still parses as a JSON object only had a clash. -#}
{%- set line_reason -%}
    case
        when trim(raw_line) = '' then 'empty_line'
        when octet_length(raw_line) > {{ segment_max_line_bytes() }} then 'line_too_long'
        when not is_valid_utf8 then 'invalid_utf8'
        when _line is null or (_line._corrupt_record is not null and _top is null) then
            case
                when left(ltrim(raw_line), 1) = '[' then 'json_array'
                when left(ltrim(raw_line), 1) != '{' then 'not_json'
                else 'malformed_json'
            end
        when {{ p['invalid_id'] }} then 'invalid_id'
    end
{%- endset -%}
with

raw_lines as (
    {{ segment_raw_lines(table_name, glob, create_view) }}
),

located as (
    select
        raw_line,
        file_name,
        {{ segment_file_source_id('file_name') }} as source_id,
        {{ segment_file_received_day('file_name') }} as received_day,
        -- the line's bytes as read, without its newline: the file's check adds them up (base_segment__files)
        octet_length(raw_line) as line_bytes,
        -- Spark keeps a line's bytes as read; re-encoding replaces invalid sequences, so they differ.
        cast(raw_line as binary) = encode(raw_line, 'UTF-8') as is_valid_utf8
    from raw_lines
),

checked as (
    select
        located.*,
        -- A line that is not valid UTF-8, or too long to load, is not parsed: none of its bytes
        -- reach a typed column.
        case when is_valid_utf8 and octet_length(raw_line) <= {{ segment_max_line_bytes() }} then raw_line end as parse_text
    from located
),

parsed_lines as (
    select
        checked.*,
        {{ p['line'] | join(',\n        ') }}
    from checked
),

parsed_objects as (
    select
        parsed_lines.*,
        {{ p['top'] | join(',\n        ') }},
        {{ p['objects'] | join(',\n        ') }},
        {{ p['kinds'] | join(',\n        ') }}
    from parsed_lines
),

flattened as (
    select
        {{ segment_source_key('source_id') }} as source_key,
        source_id,
        file_name,
        received_day,
        line_bytes,
        {{ line_reason }} as line_reason,
        case when ({{ p['suspect'] }}) and {{ line_reason }} is null then {{ p['clashes'] }} end as field_clashes,
        {{ p['present']['timestamp'] }} as has_timestamp,
        {{ p['present']['receivedAt'] }} as has_received_at,
        -- Kept valid UTF-8 (invalid bytes as U+FFFD) so every table stays readable and loadable;
        -- the exact bytes of such a line are kept in raw_line_base64.
        case when is_valid_utf8 then raw_line else decode(encode(raw_line, 'UTF-8'), 'UTF-8') end as raw_line,
        case when not is_valid_utf8 then base64(cast(raw_line as binary)) end as raw_line_base64,
        {{ p['flat'] | join(',\n        ') }}
    -- one projection from the parsed structs to flat columns: each projection that carries the
    -- structs copies them row by row (Spark gives up whole-stage code generation past 100 fields)
    from parsed_objects
),

final as (
    select
        source_key,
        source_id,
        file_name,
        received_day,
        line_bytes,
        case
            when line_reason is not null then line_reason
            when message_id is null or trim(message_id) = '' then 'missing_message_id'
            when `timestamp` is null and not has_timestamp then 'missing_timestamp'
            when `timestamp` is null then 'invalid_timestamp'
            when received_at is null and not has_received_at then 'missing_received_at'
            when received_at is null then 'invalid_received_at'
            when type is null then 'missing_type'
            when type not in {{ sql_string_list(segment_call_types()) }} then 'unknown_type'
        end as reject_reason,
        case when line_reason is null then coalesce(field_clashes, array()) end as field_clashes,
        raw_line,
        raw_line_base64,
        {{ p['names'] | join(',\n        ') }}
    from flattened
)

-- session: {{ segment_reader_session() }}
select * from final
{% endmacro %}

{#-
  The Spark setting the typed read needs, run as the lines models' first pre-hook so it holds on
  every target (the local session, the EMR job's, a Thrift connection's) without a copy per
  profile: whole-stage code generation for plans of up to 1,000 fields. Spark's default (100)
  turns it off for the read's plan (its parsed structs and ~100 flat columns count nested fields
  too), and the rows then go through one generated projection per operator. Measured on the 1M
  day's two lines models with the optimising JIT (2026-12-07, one process, noop sink, the runs
  after the first): 84.6 s -> 63.7-67.9 s; on the sample's small run no change (74 s vs 78 s).
  The compiled SQL names it (benchmarks/read_case.py applies it from there).
-#}
{% macro segment_reader_session() %}set spark.sql.codegen.maxFields=1000{% endmacro %}

{#- The longest line that is parsed, in bytes (see line_too_long above). -#}
{% macro segment_max_line_bytes() %}{{ return(65535) }}{% endmacro %}

{#- Segment's calls (the spec's message types); any other `type` is unknown_type. -#}
{% macro segment_call_types() %}{{ return(['page', 'screen', 'track', 'identify', 'group', 'alias']) }}{% endmacro %}

{#- The base models of one kind ('lines' or 'events') for the two tables of the segment source,
    for the audit models that add up over both. -#}
{% macro segment_base_models(kind) %}
    {{ return(['base_segment__web_app_' ~ kind, 'base_segment__procedure_' ~ kind]) }}
{% endmacro %}
