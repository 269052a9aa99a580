{#-
  Every raw line of the run's window for one table of the `segment` source: parsed with the
  declared schema, flattened, and classified. A line that cannot become an event gets a
  `reject_reason` (and is quarantined downstream); the others have reject_reason null.

  Reasons, checked in this order:
    empty_line          nothing but whitespace
    invalid_utf8        bytes that are not valid UTF-8
    json_array          a JSON array instead of one event object
    not_json            does not start with '{'
    malformed_json      not parseable JSON (e.g. truncated)
    field_type_mismatch valid JSON but a declared field has the wrong type (e.g. a bad timestamp)
    missing_message_id  no messageId (cannot be deduplicated)
    missing_timestamp   no timestamp (no business date)
    missing_received_at no receivedAt (cannot pick the earliest copy)
-#}
{% macro segment_base_lines(table_name) %}
{%- set p = segment_parse_columns(table_name, 'raw_line') -%}
with

raw_lines as (
    {{ segment_raw_lines(table_name) }}
),

located as (
    select
        raw_line,
        file_name,
        regexp_extract(file_name, '/([^/]+)/[0-9]{13}/[^/]+$', 1) as source_id,
        to_date(timestamp_millis(cast(regexp_extract(file_name, '/([0-9]{13})/[^/]+$', 1) as bigint))) as received_day
    from raw_lines
),

parsed_lines as (
    select
        located.*,
        {{ p['line'] | join(',\n        ') }}
    from located
),

parsed_objects as (
    select
        parsed_lines.*,
        {{ p['objects'] | join(',\n        ') }}
    from parsed_lines
),

final as (
    select
        {{ segment_source_key('source_id') }} as source_key,
        source_id,
        file_name,
        received_day,
        case
            when trim(raw_line) = '' then 'empty_line'
            -- Spark keeps a line's bytes as read; re-encoding replaces invalid sequences, so they differ.
            when cast(raw_line as binary) != encode(raw_line, 'UTF-8') then 'invalid_utf8'
            when _line is null or _line._corrupt_record is not null then
                case
                    when left(ltrim(raw_line), 1) = '[' then 'json_array'
                    when left(ltrim(raw_line), 1) != '{' then 'not_json'
                    when _line.`messageId` is null and _line.`timestamp` is null then 'malformed_json'
                    else 'field_type_mismatch'
                end
            when _line.`messageId` is null or trim(_line.`messageId`) = '' then 'missing_message_id'
            when _line.`timestamp` is null then 'missing_timestamp'
            when _line.`receivedAt` is null then 'missing_received_at'
        end as reject_reason,
        raw_line,
        {{ p['flat'] | join(',\n        ') }}
    from parsed_objects
)

select * from final
{% endmacro %}
