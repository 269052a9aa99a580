{{ config(materialized='table') }}
-- depends_on: {{ source('segment', 'web_app_events') }}

{{ segment_base_lines('web_app_events') }}
