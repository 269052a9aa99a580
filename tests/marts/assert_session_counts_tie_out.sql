{#-
  The sessions of each owned date are the same number in segment_log_session (Q02),
  sessions_daily (Q10), traffic_sources_daily (Q13) and device_breakdown_daily (Q17), and
  the same as the distinct session ids of the events (a second path, from the event level):
  each session is counted once, on the date of its first event. One row per date that differs.
-#}

{%- set owned = sql_string_list(owned_ymds()) %}

with

counts as (
    select
        session_ymd as ymd,
        'int_sessionised_events' as model,
        count(distinct session_id) as sessions
    from {{ ref('int_sessionised_events') }}
    where
        ymd in {{ owned }}
        and session_ymd in {{ owned }}
    group by session_ymd
    union all
    select
        ymd,
        'segment_log_session' as model,
        count(*) as sessions
    from {{ ref('segment_log_session') }}
    where ymd in {{ owned }}
    group by ymd
    union all
    select
        ymd,
        'sessions_daily' as model,
        sum(sessions) as sessions
    from {{ ref('sessions_daily') }}
    where ymd in {{ owned }}
    group by ymd
    union all
    select
        ymd,
        'traffic_sources_daily' as model,
        sum(sessions) as sessions
    from {{ ref('traffic_sources_daily') }}
    where ymd in {{ owned }}
    group by ymd
    union all
    select
        ymd,
        'device_breakdown_daily' as model,
        sum(sessions) as sessions
    from {{ ref('device_breakdown_daily') }}
    where ymd in {{ owned }}
    group by ymd
)

select
    ymd,
    min(sessions) as fewest,
    max(sessions) as most,
    count(*) as models
from counts
group by ymd
having min(sessions) != max(sessions) or count(*) != 5
