-- Q04 daily_active_users (docs/queries.md Q04): how many users were active on one KST business
-- date, by platform and login state.
--
-- Legacy Amazon Redshift SQL, as the analytics team ran it over the raw events table.
-- Parameter: :'ymd' = the KST business date 'YYYY-MM-DD' (psql variable syntax:
--   psql -v ymd=2021-01-04 -f legacy/redshift/daily_active_users.sql; the harness substitutes it).
-- Reads: legacy_raw.web_app_events (one row per delivery; legacy/raw_tables.sql): the date's
--   events, and every event carrying both ids for the identity links.
-- Returns every column of marts.daily_active_users, one row per (ymd, platform, is_identified).
-- Rules (docs/queries.md "User key"; docs/marts.md "Users and identity stitching"):
--   * events deduplicated by messageId (earliest received_at); the business date is the KST
--     date of "timestamp";
--   * user key = the event's user_id, else the user id its anonymous id is stitched to (the
--     earliest identify call carrying both ids, else the earliest event of any type carrying
--     both; ties by message_id), else the anonymous id; events with neither id are left out;
--   * is_identified = the event's key is a user id (its own or stitched); a user active on web
--     and app counts once on each platform (the platform is the event's source);
--   * users = distinct user keys, events = their events.

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
        source_id,
        to_char(convert_timezone('UTC', 'Asia/Seoul', "timestamp"), 'YYYY-MM-DD') as ymd
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

keyed as (
    select
        ev.ymd,
        case ev.source_id
            when 'wXsRmVq7Lk' then 'web'
            when 'aPp4Tz9QmN' then 'app'
        end as platform,
        nvl(ev.user_id, links.user_id, ev.anonymous_id) as user_key,
        nvl(ev.user_id, links.user_id) is not null as is_identified
    from events as ev
    left join links on ev.anonymous_id = links.anonymous_id and links.link_rank = 1
    where ev.ymd = :'ymd'
)

select
    platform,
    is_identified,
    count(distinct user_key) as users,
    count(*) as events,
    ymd
from keyed
where user_key is not null
group by ymd, platform, is_identified
