-- Q06 page_views_daily (docs/queries.md Q06): which pages are viewed on one KST business date, how
-- often, by how many users and for how long.
--
-- Legacy Amazon Redshift SQL, as the analytics team ran it over the raw events table.
-- Parameter: :'ymd' = the KST business date 'YYYY-MM-DD' (psql variable syntax:
--   psql -v ymd=2021-01-04 -f legacy/redshift/page_views_daily.sql; the parity harness substitutes it).
-- Reads: legacy_raw.web_app_events (one row per delivery; legacy/raw_tables.sql), all of it: the
--   next event of a view's session may fall on the next date, and user keys use every identity link.
-- Returns the columns of marts.page_views_daily, one row per (ymd, page_name, page_path):
--   views, unique_viewers, avg_seconds_on_page.
-- Rules (docs/queries.md "Page view", "Session", "User key", Q06):
--   * events deduplicated by messageId (earliest received_at);
--   * a page view is a `page` (web) or `screen` (app) call of the date;
--   * page_name = properties.page.name, or properties.page itself when older events send a plain
--     string; page_path = context.page.path, else properties.path, else properties.properties.path;
--     '(not set)' when missing, empty or blank (both are trimmed);
--   * user key = user_id, else the user id the anonymous id is stitched to (the earliest identify
--     call carrying both ids, else the earliest event of any type carrying both; ties by
--     message_id), else anonymous_id; unique_viewers counts distinct user keys (an event with no
--     id has none);
--   * seconds on page = datediff('second', view, next event of the same session): the next event
--     of the session key (anonymous_id, else user_id) in ("timestamp", message_id) order, when it
--     is at most 30 minutes later (a longer gap starts a new session, so the view was the
--     session's last and has no time). Views without a time (last of a session, or no id at all)
--     are left out of the average; NULL when no view has one. The average is taken over float
--     (avg of an integer column would be BIGINT in Redshift, the fraction dropped).

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
        nvl(anonymous_id, user_id) as session_key,
        nvl(type in ('page', 'screen'), false) as is_page_view,
        json_extract_path_text(properties, 'page') as properties_page,
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

timed as (
    select
        ev.*,
        nvl(ev.user_id, links.user_id, ev.anonymous_id) as user_key,
        lead(ev.event_at_utc) over (
            partition by ev.session_key order by ev.event_at_utc, ev.message_id
        ) as next_event_at_utc
    from events as ev
    left join links on ev.anonymous_id = links.anonymous_id and links.link_rank = 1
),

page_views as (
    select
        nvl(nullif(trim(
            case
                when left(ltrim(properties_page), 1) = '{' then json_extract_path_text(properties_page, 'name', true)
                else properties_page
            end
        ), ''), '(not set)') as page_name,
        nvl(nullif(trim(page_path), ''), '(not set)') as page_path,
        user_key,
        case
            when session_key is not null and next_event_at_utc <= dateadd('minute', 30, event_at_utc)
                then datediff('second', event_at_utc, next_event_at_utc)
        end as seconds_on_page
    from timed
    where
        is_page_view
        and to_char(convert_timezone('UTC', 'Asia/Seoul', event_at_utc), 'YYYY-MM-DD') = :'ymd'
)

select
    page_name,
    page_path,
    count(*) as views,
    count(distinct user_key) as unique_viewers,
    avg(seconds_on_page::float) as avg_seconds_on_page,
    :'ymd' as ymd
from page_views
group by page_name, page_path
