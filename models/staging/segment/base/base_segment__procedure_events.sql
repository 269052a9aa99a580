-- depends_on: {{ ref('base_segment__landed_folders') }}
-- depends_on: {{ ref('segment_run_started') }}

{{ segment_classified_events(ref('base_segment__procedure_lines')) }}
