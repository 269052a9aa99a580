{{ config(materialized='table') }}
-- depends_on: {{ source('segment', 'procedure_events') }}

{{ segment_base_lines('procedure_events') }}
