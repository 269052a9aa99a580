{{
    config(
        partition_by=['run_ymd'],
    )
}}

{#-
  One row per run date, written before anything the loader loads: the base events models depend
  on it, and all of staging, hence the marts, the user state and the snapshot, comes from them. Its invocation_id
  says which dbt invocation is rewriting the date's partitions; segment_run_completed gets the
  same id only when that invocation finished, and the loader compares the two. It waits for the
  landed guard: a day whose files have not landed stops the run before this row, the tables stay
  as they were, and so does their loadable pair.
-#}

-- depends_on: {{ ref('base_segment__landed_folders') }}

select
    '{{ invocation_id }}' as invocation_id,
    current_timestamp() as started_at_utc,
    '{{ run_date() }}' as run_ymd
