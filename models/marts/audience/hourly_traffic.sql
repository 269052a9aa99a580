{#-
  Q16: events and users per KST hour of each date, for a weekday x hour heatmap. Every hour
  0-23 of an owned date with any event has a row (zero when the hour had no event), so the
  heatmap has no holes. weekday: 1 = Sunday … 7 = Saturday.
-#}

with

events as (
    {{ owned_rows(ref('int_sessionised_events')) }}
),

dates as (
    select distinct ymd from events
),

day_hours as (
    select explode(sequence(0, 23)) as hour
),

hours as (
    select
        dates.ymd,
        day_hours.hour
    from dates
    cross join day_hours
),

counts as (
    select
        ymd,
        hour(event_at_kst) as hour,
        count(*) as events,
        count(distinct user_key) as users
    from events
    group by ymd, hour(event_at_kst)
),

final as (
    select
        hours.hour,
        dayofweek(to_date(hours.ymd)) as weekday,
        coalesce(counts.events, 0) as events,
        coalesce(counts.users, 0) as users,
        hours.ymd
    from hours
    left join counts
        on
            hours.ymd = counts.ymd
            and hours.hour = counts.hour
)

select * from final
