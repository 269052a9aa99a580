-- Q02 segment_log_session (docs/queries.md Q02): the sessions of one KST business date.
--
-- Legacy Amazon Redshift SQL, as the analytics team ran it over the raw events table.
-- Parameter: :'ymd' = the KST business date 'YYYY-MM-DD' (psql variable syntax:
--   psql -v ymd=2020-12-31 -f legacy/redshift/segment_log_session.sql; the harness substitutes it).
-- Reads: legacy_raw.web_app_events (one row per delivery; legacy/raw_tables.sql), all of it:
--   sessions and identity links are derived from every event the table holds.
-- Returns every column of marts.segment_log_session, one row per session_id.
-- Rules (docs/queries.md "Session", "User key"; docs/marts.md "Sessions", "Users and identity stitching"):
--   * events deduplicated by messageId (earliest received_at);
--   * session key = anonymous_id, else user_id (events with neither are not sessionised);
--   * a session = consecutive events of a key with no gap over 30 minutes (a gap of exactly
--     30 minutes stays in the session); events are ordered by ("timestamp", message_id), the
--     tie-break for events at the same instant;
--   * session_id = md5(session key || '|' || start instant 'YYYY-MM-DD HH24:MI:SS.US' in UTC);
--   * a session belongs to the KST date of its first event, and is not cut at midnight;
--   * user key = the event's user_id, else the user id its anonymous id is stitched to (the
--     earliest identify call carrying both ids, else the earliest event of any type carrying
--     both; ties by message_id), else the anonymous id; a session's user_key is the greatest
--     identified key among its events, else its greatest key;
--   * landing/exit page = the page path (context.page.path, else properties.path, else
--     properties.properties.path) of the first/last page view (type page or screen);
--   * platform = the source of the session's first event; times are KST wall clock;
--     duration = datediff('second', first, last); next_session_start_at = the start of the
--     key's next session (NULL when there is none).

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
        nvl(type in ('page', 'screen'), false) as is_page_view,
        nvl(
            json_extract_path_text(context, 'page', 'path'),
            json_extract_path_text(properties, 'path'),
            json_extract_path_text(properties, 'properties', 'path')
        ) as page_path
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
        min(event_at_utc) over (partition by session_key, session_number) as session_start_utc,
        row_number() over (
            partition by session_key, session_number order by event_at_utc, message_id
        ) as event_rank,
        row_number() over (
            partition by session_key, session_number, is_page_view order by event_at_utc, message_id
        ) as page_view_rank,
        row_number() over (
            partition by session_key, session_number, is_page_view order by event_at_utc desc, message_id desc
        ) as page_view_rank_desc
    from numbered
),

sessions as (
    select
        md5(session_key || '|' || to_char(session_start_utc, 'YYYY-MM-DD HH24:MI:SS.US')) as session_id,
        session_key,
        max(anonymous_id) as anonymous_id,
        nvl(max(case when is_identified then user_key end), max(user_key)) as user_key,
        min(event_at_utc) as start_utc,
        max(event_at_utc) as end_utc,
        count(*) as event_count,
        sum(case when is_page_view then 1 else 0 end) as page_view_count,
        max(case when event_rank = 1 then source_id end) as first_source_id,
        max(case when is_page_view and page_view_rank = 1 then page_path end) as landing_page_path,
        max(case when is_page_view and page_view_rank_desc = 1 then page_path end) as exit_page_path
    from ranked
    group by session_key, session_number, session_start_utc
),

with_next as (
    select
        sessions.*,
        lead(start_utc) over (partition by session_key order by start_utc) as next_start_utc
    from sessions
)

select
    session_id,
    anonymous_id,
    user_key,
    convert_timezone('UTC', 'Asia/Seoul', start_utc) as session_start_at,
    convert_timezone('UTC', 'Asia/Seoul', end_utc) as session_end_at,
    convert_timezone('UTC', 'Asia/Seoul', next_start_utc) as next_session_start_at,
    datediff('second', start_utc, end_utc) as duration_seconds,
    event_count,
    page_view_count,
    landing_page_path,
    exit_page_path,
    case first_source_id
        when 'wXsRmVq7Lk' then 'web'
        when 'aPp4Tz9QmN' then 'app'
    end as platform,
    to_char(convert_timezone('UTC', 'Asia/Seoul', start_utc), 'YYYY-MM-DD') as ymd
from with_next
where to_char(convert_timezone('UTC', 'Asia/Seoul', start_utc), 'YYYY-MM-DD') = :'ymd'
