-- Q16 hourly_traffic (docs/queries.md Q16): events and users per KST hour of one business date, for
-- a weekday x hour heatmap.
--
-- Legacy Amazon Redshift SQL, as the analytics team ran it over the raw events table.
-- Parameter: :'ymd' = the KST business date 'YYYY-MM-DD' (psql variable syntax:
--   psql -v ymd=2021-01-04 -f legacy/redshift/hourly_traffic.sql; the harness substitutes it).
-- Reads: legacy_raw.web_app_events (one row per delivery; legacy/raw_tables.sql): the date's
--   events, and every event carrying both ids for the identity links.
-- Returns every column of marts.hourly_traffic, one row per (ymd, hour): all 24 hours of a date
--   with any event (zero events and users in an hour without any), none for a date without events.
-- Rules (docs/queries.md Q16, "User key"):
--   * events deduplicated by messageId (earliest received_at); business date and hour = the
--     KST wall clock of "timestamp" (hour 0-23);
--   * weekday of the date: 1 = Sunday … 7 = Saturday (date_part('dow') is 0 = Sunday … 6);
--   * events counts every event, those without any id included; users = distinct user keys
--     (user_id, else the stitched user id, else the anonymous id; the earliest identify call
--     carrying both ids, else the earliest event of any type carrying both, ties by message_id).

with deliveries as (
    select
        e.*,
        row_number() over (partition by e.message_id order by e.received_at) as delivery_rank
    from legacy_raw.web_app_events as e
),

events as (
    select
        message_id,
        anonymous_id,
        user_id,
        type,
        "timestamp" as event_at_utc,
        convert_timezone('UTC', 'Asia/Seoul', "timestamp") as kst
    from deliveries
    where delivery_rank = 1
),

links as (
    select
        anonymous_id,
        user_id,
        row_number() over (
            partition by anonymous_id
            order by case when type = 'identify' then 0 else 1 end, event_at_utc, message_id
        ) as link_rank
    from events
    where anonymous_id is not null and user_id is not null
),

day_events as (
    select
        date_part('hour', ev.kst)::integer as hour,
        nvl(ev.user_id, links.user_id, ev.anonymous_id) as user_key,
        to_char(ev.kst, 'YYYY-MM-DD') as ymd
    from events as ev
    left join links on ev.anonymous_id = links.anonymous_id and links.link_rank = 1
    where to_char(ev.kst, 'YYYY-MM-DD') = :'ymd'
),

-- The 24 hours of a day (Redshift's generate_series runs on the leader node only: it cannot
-- be joined with a table).
day_hours as (
    select 0 as hour union all select 1 union all select 2 union all select 3 union all select 4
    union all select 5 union all select 6 union all select 7 union all select 8 union all select 9
    union all select 10 union all select 11 union all select 12 union all select 13 union all select 14
    union all select 15 union all select 16 union all select 17 union all select 18 union all select 19
    union all select 20 union all select 21 union all select 22 union all select 23
),

hours as (
    select
        dates.ymd,
        day_hours.hour
    from (select distinct ymd from day_events) as dates
    cross join day_hours
),

counts as (
    select
        hour,
        count(*) as events,
        count(distinct user_key) as users
    from day_events
    group by hour
)

select
    hours.hour,
    date_part('dow', hours.ymd::date)::integer + 1 as weekday,
    nvl(counts.events, 0) as events,
    nvl(counts.users, 0) as users,
    hours.ymd
from hours
left join counts on hours.hour = counts.hour
