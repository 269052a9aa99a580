{{ config(materialized='view') }}

{{ segment_classified_events(ref('base_segment__procedure_lines')) }}
