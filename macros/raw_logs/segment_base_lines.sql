{#-
  Every raw line of the run's window for one table of the `segment` source: parsed with the
  declared schema, flattened, and classified. A line that cannot become an event gets a
  `reject_reason` (and is quarantined downstream); the others have reject_reason null.

  Reasons, checked in this order:
    empty_line          nothing but whitespace
    line_too_long       longer than segment_max_line_bytes() (65,535 bytes; not parsed). Segment
                        caps a message at 32 KB, and no column of a longer line could be loaded
                        into Redshift, whose VARCHAR holds at most 65,535 bytes.
    invalid_utf8        bytes that are not valid UTF-8 (not parsed; exact bytes in raw_line_base64)
    json_array          a JSON array instead of one event object
    not_json            does not start with '{'
    malformed_json      not parseable JSON (e.g. truncated, even after a readable messageId)
    field_type_mismatch valid JSON but a declared field has the wrong type (e.g. a bad timestamp,
                        or a string where context.userAgentData.mobile is declared boolean).
                        Strict on purpose: a wrong type is kept aside and counted, never nulled
                        silently; a field that varies in type is declared `string`. A top-level
                        field declared `string` (messageId, type, …) must hold a JSON string: a
                        number, boolean, object or array there is a mismatch too (Spark's reader
                        would silently turn it into its JSON text; see segment_not_a_string).
    missing_message_id  no messageId (cannot be deduplicated)
    missing_timestamp   no timestamp (no business date)
    missing_received_at no receivedAt (cannot pick the earliest copy)
    missing_type        no type
    unknown_type        a type that is not one of Segment's six calls (segment_call_types())
-#}
{% macro segment_base_lines(table_name) %}
{%- set p = segment_parse_columns(table_name, 'parse_text') -%}
with

raw_lines as (
    {{ segment_raw_lines(table_name) }}
),

located as (
    select
        raw_line,
        file_name,
        {{ segment_file_source_id('file_name') }} as source_id,
        {{ segment_file_received_day('file_name') }} as received_day,
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
            when octet_length(raw_line) > {{ segment_max_line_bytes() }} then 'line_too_long'
            when not is_valid_utf8 then 'invalid_utf8'
            when _line is null or _line._corrupt_record is not null then
                case
                    when left(ltrim(raw_line), 1) = '[' then 'json_array'
                    when left(ltrim(raw_line), 1) != '{' then 'not_json'
                    -- Any JSON object parses as map<string,string>; a broken one (e.g. truncated) does not.
                    when from_json(parse_text, 'map<string,string>') is null then 'malformed_json'
                    else 'field_type_mismatch'
                end
            {%- for field in p['strict_strings'] %}
            when {{ segment_not_a_string('_line', field, 'parse_text') }} then 'field_type_mismatch'
            {%- endfor %}
            when _line.`messageId` is null or trim(_line.`messageId`) = '' then 'missing_message_id'
            when _line.`timestamp` is null then 'missing_timestamp'
            when _line.`receivedAt` is null then 'missing_received_at'
            {%- for obj in p['object_structs'] %}
            when {{ obj }}._corrupt_record is not null then 'field_type_mismatch'
            {%- endfor %}
            when _line.`type` is null then 'missing_type'
            when _line.`type` not in {{ sql_string_list(segment_call_types()) }} then 'unknown_type'
        end as reject_reason,
        -- Kept valid UTF-8 (invalid bytes as U+FFFD) so every table stays readable and loadable;
        -- the exact bytes of such a line are kept in raw_line_base64.
        case when is_valid_utf8 then raw_line else decode(encode(raw_line, 'UTF-8'), 'UTF-8') end as raw_line,
        case when not is_valid_utf8 then base64(cast(raw_line as binary)) end as raw_line_base64,
        {{ p['flat'] | join(',\n        ') }}
    from parsed_objects
)

select * from final
{% endmacro %}

{#- The longest line that is parsed, in bytes (see line_too_long above). -#}
{% macro segment_max_line_bytes() %}{{ return(65535) }}{% endmacro %}

{#- Segment's calls (the spec's message types); any other `type` is unknown_type. -#}
{% macro segment_call_types() %}{{ return(['page', 'screen', 'track', 'identify', 'group', 'alias']) }}{% endmacro %}

{#-
  True when the top-level string field `field` of the parsed struct `line_struct` came from a
  JSON number, boolean, object or array rather than a string. Spark's reader gives such a
  value as its JSON text (123 -> '123'), the same text a JSON string "123" gives, so only a
  value that looks like one of those is parsed once more, with the field as that JSON type:
  a string token fails that parse (the field is null), the other token does not. The look is narrow (a
  whole JSON number, true/false, a leading { or [), so a UUID or a name is never re-parsed.
-#}
{% macro segment_not_a_string(line_struct, field, text_column) %}
    {%- set value = line_struct ~ '.`' ~ field ~ '`' -%}
    {#- to_json drops null fields: '{}' when the field failed the parse (a string token). -#}
    {%- set probe = "to_json(from_json(" ~ text_column ~ ", 'struct<`" ~ field ~ "`: JSON_TYPE>')) != '{}'" -%}
    coalesce(case
        when {{ value }} rlike '^-?(0|[1-9][0-9]*)([.][0-9]+)?([eE][-+]?[0-9]+)?$' then {{ probe | replace('JSON_TYPE', 'double') }}
        when {{ value }} in ('true', 'false') then {{ probe | replace('JSON_TYPE', 'boolean') }}
        when left({{ value }}, 1) = '{' then {{ probe | replace('JSON_TYPE', 'map<string,string>') }}
        when left({{ value }}, 1) = '[' then {{ probe | replace('JSON_TYPE', 'array<string>') }}
    end, false)
{%- endmacro %}
