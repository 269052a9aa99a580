-- Q05 active_users_rolling (docs/queries.md Q05): DAU, WAU and MAU of one KST business date.
--
-- Legacy Amazon Redshift SQL, as the analytics team ran it over the raw events table.
-- Parameter: :'ymd' = the KST business date 'YYYY-MM-DD' (psql variable syntax:
--   psql -v ymd=2021-01-04 -f legacy/redshift/active_users_rolling.sql; the harness substitutes it).
-- Reads: legacy_raw.web_app_events (one row per delivery; legacy/raw_tables.sql): the events of
--   the 30 KST days ending on the date, and every event carrying both ids for the identity links.
-- Returns every column of marts.active_users_rolling: one row, for the date.
-- Rules (docs/queries.md Q05, "User key"):
--   * events deduplicated by messageId (earliest received_at); business date = KST date;
--   * user key = the event's user_id, else the user id its anonymous id is stitched to (the
--     earliest identify call carrying both ids, else the earliest event of any type carrying
--     both; ties by message_id), else the anonymous id; events with neither id are left out;
--     so a visitor who logged in during the window counts once;
--   * dau = distinct user keys on the date; wau = over the 7 KST days date-6..date; mau = over
--     the 30 days date-29..date (both windows include the date). Until 30 days of history
--     exist, MAU covers what exists.

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

window_activity as (
    select
        ev.kst_date,
        nvl(ev.user_id, links.user_id, ev.anonymous_id) as user_key
    from events as ev
    left join links on ev.anonymous_id = links.anonymous_id and links.link_rank = 1
    where
        ev.kst_date between trunc(dateadd('day', -29, :'ymd'::date)) and :'ymd'::date
        and nvl(ev.anonymous_id, ev.user_id) is not null
)

select
    count(distinct case when kst_date = :'ymd'::date then user_key end) as dau,
    count(distinct case when kst_date >= trunc(dateadd('day', -6, :'ymd'::date)) then user_key end) as wau,
    count(distinct user_key) as mau,
    cast(:'ymd' as varchar(10)) as ymd
from window_activity
