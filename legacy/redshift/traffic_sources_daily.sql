-- Q13 traffic_sources_daily (docs/queries.md Q13): where the sessions of one KST business date come
-- from — first-touch utm source / medium / campaign and the landing page's referrer domain.
--
-- Legacy Amazon Redshift SQL, as the analytics team ran it over the raw events table.
-- Parameter: :'ymd' = the KST business date 'YYYY-MM-DD' (psql variable syntax:
--   psql -v ymd=2021-01-04 -f legacy/redshift/traffic_sources_daily.sql; the parity harness substitutes it).
-- Reads: legacy_raw.web_app_events (one row per delivery; legacy/raw_tables.sql), all of it:
--   sessions and identity links are derived from every event the table holds.
-- Returns the columns of marts.traffic_sources_daily, one row per (ymd, utm_source, utm_medium,
--   utm_campaign, referrer_domain): sessions, users.
-- Rules (docs/queries.md "Session", "User key", Q13; the sessions are Q02's):
--   * events deduplicated by messageId (earliest received_at); session key = anonymous_id, else
--     user_id (events with neither are not sessionised); a session = consecutive events of a key
--     with no gap over 30 minutes, in ("timestamp", message_id) order; it belongs to the KST
--     date of its first event;
--   * first touch = the session's first event: its context.campaign {source, medium, name} when
--     any of the three is present (even ""), else the utm_source / utm_medium / utm_campaign of
--     its properties.properties.search object (the app's navigation), taken as a group, never
--     mixed; each trimmed, '(none)' when missing, null or empty;
--   * referrer = context.page.referrer of the session's first page view (page / screen), else of
--     its first event; referrer_domain = its host (the part after '://' up to the first '/',
--     '?' or '#', without user info and port), lower-cased; '(direct)' when the referrer is
--     missing or blank, '(unparsable)' when it has no host;
--   * users = distinct user keys of the sessions: a session's user key is the greatest
--     identified key among its events (user_id, else the anonymous id's stitched user id: the
--     earliest identify call carrying both ids, else the earliest event carrying both, ties by
--     message_id), else its greatest key (the anonymous id).

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
        json_extract_path_text(context, 'page', 'referrer') as referrer,
        json_extract_path_text(context, 'campaign', 'source') as campaign_source,
        json_extract_path_text(context, 'campaign', 'medium') as campaign_medium,
        json_extract_path_text(context, 'campaign', 'name') as campaign_name,
        json_extract_path_text(properties, 'properties', 'search', 'utm_source') as nav_utm_source,
        json_extract_path_text(properties, 'properties', 'search', 'utm_medium') as nav_utm_medium,
        json_extract_path_text(properties, 'properties', 'search', 'utm_campaign') as nav_utm_campaign
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
        ) as event_rank,
        row_number() over (
            partition by session_key, session_number, is_page_view order by event_at_utc, message_id
        ) as page_view_rank
    from numbered
),

sessions as (
    select
        session_key,
        session_number,
        min(event_at_utc) as start_utc,
        nvl(max(case when is_identified then user_key end), max(user_key)) as user_key,
        nvl(
            max(case when is_page_view and page_view_rank = 1 then referrer end),
            max(case when event_rank = 1 then referrer end)
        ) as landing_referrer,
        max(case when event_rank = 1 then campaign_source end) as campaign_source,
        max(case when event_rank = 1 then campaign_medium end) as campaign_medium,
        max(case when event_rank = 1 then campaign_name end) as campaign_name,
        max(case when event_rank = 1 then nav_utm_source end) as nav_utm_source,
        max(case when event_rank = 1 then nav_utm_medium end) as nav_utm_medium,
        max(case when event_rank = 1 then nav_utm_campaign end) as nav_utm_campaign
    from ranked
    group by session_key, session_number
),

touches as (
    select
        user_key,
        nvl(nullif(trim(case
            when nvl(campaign_source, campaign_medium, campaign_name) is not null then campaign_source
            else nav_utm_source
        end), ''), '(none)') as utm_source,
        nvl(nullif(trim(case
            when nvl(campaign_source, campaign_medium, campaign_name) is not null then campaign_medium
            else nav_utm_medium
        end), ''), '(none)') as utm_medium,
        nvl(nullif(trim(case
            when nvl(campaign_source, campaign_medium, campaign_name) is not null then campaign_name
            else nav_utm_campaign
        end), ''), '(none)') as utm_campaign,
        case
            when nullif(trim(landing_referrer), '') is null then '(direct)'
            else nvl(nullif(lower(
                -- host[:port] after the scheme, up to the path / query / fragment; user info and
                -- port dropped
                regexp_replace(regexp_replace(
                    split_part(split_part(split_part(split_part(trim(landing_referrer), '://', 2), '/', 1), '?', 1), '#', 1),
                    '^.*@', ''), ':[0-9]*$', '')
            ), ''), '(unparsable)')
        end as referrer_domain
    from sessions
    where to_char(convert_timezone('UTC', 'Asia/Seoul', start_utc), 'YYYY-MM-DD') = :'ymd'
)

select
    utm_source,
    utm_medium,
    utm_campaign,
    referrer_domain,
    count(*) as sessions,
    count(distinct user_key) as users,
    :'ymd' as ymd
from touches
group by utm_source, utm_medium, utm_campaign, referrer_domain
