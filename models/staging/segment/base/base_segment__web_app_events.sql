{{ config(materialized='view') }}

{{ segment_classified_events(ref('base_segment__web_app_lines')) }}
