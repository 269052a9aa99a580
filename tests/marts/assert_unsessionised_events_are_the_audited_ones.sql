{#-
  Events with neither anonymousId nor userId are not sessionised (docs/queries.md Q02) and are
  counted in the audit: the web/app events of the owned dates without a session are exactly
  the run's events_without_ids. Returns a row when they differ.
-#}

with

unsessionised as (
    select count(*) as events
    from {{ ref('int_sessionised_events') }}
    where
        ymd in {{ sql_string_list(owned_ymds()) }}
        and session_id is null
),

audited as (
    select sum(events_without_ids) as events
    from {{ ref('segment_run_audit') }}
    where
        run_ymd = '{{ run_date() }}'
        and source_key in ('web', 'app')
)

select
    unsessionised.events as unsessionised_events,
    audited.events as audited_events_without_ids
from unsessionised
cross join audited
where not (unsessionised.events <=> audited.events)
