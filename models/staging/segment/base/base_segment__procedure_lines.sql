-- depends_on: {{ source('segment', 'procedure_events') }}

{# The parsed layer: each raw line parsed once in its file's life (macro segment_parsed_lines). #}

{{ segment_parsed_lines('procedure_events') }}
