-- Q10 sessions_daily (docs/queries.md Q10): sessions, duration, depth and bounce rate of one KST
-- business date, per platform.
--
-- Legacy Amazon Redshift SQL, as the analytics team ran it over the raw events table.
-- Parameter: :'ymd' = the KST business date 'YYYY-MM-DD' (psql variable syntax:
--   psql -v ymd=2021-01-04 -f legacy/redshift/sessions_daily.sql; the harness substitutes it).
-- Reads: legacy_raw.web_app_events (one row per delivery; legacy/raw_tables.sql), all of it:
--   sessions and identity links are derived from every event the table holds.
-- Returns every column of marts.sessions_daily, one row per (ymd, platform).
-- Rules (docs/queries.md Q10, "Session", "User key"; the sessions as segment_log_session.sql, Q02):
--   * events deduplicated by messageId (earliest received_at);
--   * session key = anonymous_id, else user_id (events with neither are not sessionised); a
--     session = consecutive events of a key with no gap over 30 minutes (exactly 30 minutes
--     stays in the session), events ordered by ("timestamp", message_id); it belongs to the
--     KST date of its first event and is not cut at midnight; platform = its first event's source;
--   * a session's user key = the greatest identified key among its events, else its greatest
--     key (user key as in Q02: user_id, else the stitched user id, else the anonymous id);
--   * duration = datediff('second', first event, last event): whole-second boundaries crossed;
--   * avg_duration_seconds, pages_per_session and bounce_rate are fractions: computed in
--     DOUBLE PRECISION (Redshift's AVG of an integer column returns a BIGINT with the fraction
--     dropped, and an integer division is an integer); median_duration_seconds = MEDIAN, the
--     mean of the two middle values on an even count;
--   * a bounce is a session of exactly one event, and that event a page view (page or screen).

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
        nvl(anonymous_id, user_id) as session_key,
        nvl(type in ('page', 'screen'), false) as is_page_view
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
        ev.*,
        nvl(ev.user_id, links.user_id, ev.anonymous_id) as user_key,
        nvl(ev.user_id, links.user_id) is not null as is_identified
    from events as ev
    left join links on ev.anonymous_id = links.anonymous_id and links.link_rank = 1
    where ev.session_key is not null
),

gaps as (
    select
        keyed.*,
        case
            when lag(event_at_utc) over (partition by session_key order by event_at_utc, message_id) is null then 1
            when event_at_utc > dateadd('minute', 30,
                lag(event_at_utc) over (partition by session_key order by event_at_utc, message_id)) then 1
            else 0
        end as starts_session
    from keyed
),

numbered as (
    select
        gaps.*,
        sum(starts_session) over (
            partition by session_key order by event_at_utc, message_id rows unbounded preceding
        ) as session_number
    from gaps
),

ranked as (
    select
        numbered.*,
        row_number() over (
            partition by session_key, session_number order by event_at_utc, message_id
        ) as event_rank
    from numbered
),

sessions as (
    select
        nvl(max(case when is_identified then user_key end), max(user_key)) as user_key,
        min(event_at_utc) as start_utc,
        max(event_at_utc) as end_utc,
        count(*) as event_count,
        sum(case when is_page_view then 1 else 0 end) as page_view_count,
        max(case when event_rank = 1 then source_id end) as first_source_id
    from ranked
    group by session_key, session_number
),

day_sessions as (
    select
        case first_source_id
            when 'wXsRmVq7Lk' then 'web'
            when 'aPp4Tz9QmN' then 'app'
        end as platform,
        user_key,
        datediff('second', start_utc, end_utc) as duration_seconds,
        page_view_count,
        case when event_count = 1 and page_view_count = 1 then 1 else 0 end as is_bounce,
        to_char(convert_timezone('UTC', 'Asia/Seoul', start_utc), 'YYYY-MM-DD') as ymd
    from sessions
    where to_char(convert_timezone('UTC', 'Asia/Seoul', start_utc), 'YYYY-MM-DD') = :'ymd'
)

select
    platform,
    count(*) as sessions,
    count(distinct user_key) as users,
    avg(duration_seconds::float8) as avg_duration_seconds,
    median(duration_seconds) as median_duration_seconds,
    avg(page_view_count::float8) as pages_per_session,
    sum(is_bounce)::float8 / count(*) as bounce_rate,
    ymd
from day_sessions
group by ymd, platform
