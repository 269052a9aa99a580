{{
    config(
        materialized='incremental',
        partition_by=['source_id', 'received_day'],
        pre_hook=["{{ segment_reader_session() }}", "{{ segment_layer_drop_stale('procedure_events') }}"],
    )
}}
-- depends_on: {{ source('segment', 'procedure_events') }}

{# The parsed layer: each raw line parsed once in its file's life (macro segment_parsed_lines). #}

{{ segment_parsed_lines('procedure_events') }}
