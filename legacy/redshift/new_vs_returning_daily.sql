-- Q11 new_vs_returning_daily (docs/queries.md Q11): of the users active on one KST business date,
-- how many were seen for the first time ever that date and how many had been seen before.
--
-- Legacy Amazon Redshift SQL, as the analytics team ran it over the raw events table.
-- Parameter: :'ymd' = the KST business date 'YYYY-MM-DD' (psql variable syntax:
--   psql -v ymd=2021-01-04 -f legacy/redshift/new_vs_returning_daily.sql; the harness substitutes it).
-- Reads: legacy_raw.web_app_events (one row per delivery; legacy/raw_tables.sql): the events up
--   to the end of the date (first-ever dates need the history before it), and every event
--   carrying both ids for the identity links.
-- Returns every column of marts.new_vs_returning_daily: one row, for the date.
-- Rules (docs/queries.md Q11, "User key"):
--   * events deduplicated by messageId (earliest received_at); business date = KST date;
--   * user key = the event's user_id, else the user id its anonymous id is stitched to (the
--     earliest identify call carrying both ids, else the earliest event of any type carrying
--     both; ties by message_id), else the anonymous id; events with neither id are left out.
--     So a user id whose anonymous id was seen on an earlier date is returning;
--   * users = distinct user keys active on the date; new_users = those whose first-ever event
--     is on the date; returning_users = users - new_users. A date without active users has no row.

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
        trunc(convert_timezone('UTC', 'Asia/Seoul', "timestamp")) as kst_date
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

activity as (
    select
        ev.kst_date,
        nvl(ev.user_id, links.user_id, ev.anonymous_id) as user_key
    from events as ev
    left join links on ev.anonymous_id = links.anonymous_id and links.link_rank = 1
    where
        ev.kst_date <= :'ymd'::date
        and nvl(ev.anonymous_id, ev.user_id) is not null
),

first_seen as (
    select
        user_key,
        min(kst_date) as first_seen_date
    from activity
    group by user_key
),

day_users as (
    select distinct activity.user_key, first_seen.first_seen_date
    from activity
    inner join first_seen on activity.user_key = first_seen.user_key
    where activity.kst_date = :'ymd'::date
)

select
    count(*) as users,
    sum(case when first_seen_date = :'ymd'::date then 1 else 0 end) as new_users,
    sum(case when first_seen_date < :'ymd'::date then 1 else 0 end) as returning_users,
    cast(:'ymd' as varchar(10)) as ymd
from day_users
having count(*) > 0  -- a date without any active user has no row
