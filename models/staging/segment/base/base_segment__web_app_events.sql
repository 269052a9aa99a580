-- depends_on: {{ ref('base_segment__landed_folders') }}

{{ segment_classified_events(ref('base_segment__web_app_lines')) }}
