{#-
  Event-level marts add up to segment_log (Q01) for each owned date: hourly_traffic's events
  are all its events; page_views_daily's views are its page/screen calls; the sessionised
  events are its events. One row per date and check that differs.
-#}

{%- set owned = sql_string_list(owned_ymds()) %}

with

log as (
    select
        ymd,
        count(*) as events,
        count_if(type in ('page', 'screen')) as page_views
    from {{ ref('segment_log') }}
    where ymd in {{ owned }}
    group by ymd
),

hourly as (
    select
        ymd,
        sum(events) as events
    from {{ ref('hourly_traffic') }}
    where ymd in {{ owned }}
    group by ymd
),

page_views as (
    select
        ymd,
        sum(views) as views
    from {{ ref('page_views_daily') }}
    where ymd in {{ owned }}
    group by ymd
),

sessionised as (
    select
        ymd,
        count(*) as events
    from {{ ref('int_sessionised_events') }}
    where ymd in {{ owned }}
    group by ymd
)

select
    log.ymd,
    log.events,
    hourly.events as hourly_events,
    sessionised.events as sessionised_events,
    log.page_views,
    page_views.views as page_views_daily_views
from log
left join hourly on log.ymd = hourly.ymd
left join page_views on log.ymd = page_views.ymd
left join sessionised on log.ymd = sessionised.ymd
where
    not (log.events <=> hourly.events)
    or not (log.events <=> sessionised.events)
    or not (log.page_views <=> coalesce(page_views.views, 0))
