-- Q17 device_breakdown_daily (docs/queries.md Q17): users and sessions of one KST business date per
-- device class, browser and locale.
--
-- Legacy Amazon Redshift SQL, as the analytics team ran it over the raw events table.
-- Parameter: :'ymd' = the KST business date 'YYYY-MM-DD' (psql variable syntax:
--   psql -v ymd=2021-01-04 -f legacy/redshift/device_breakdown_daily.sql; the harness substitutes it).
-- Reads: legacy_raw.web_app_events (one row per delivery; legacy/raw_tables.sql), all of it:
--   sessions and identity links are derived from every event the table holds.
-- Returns every column of marts.device_breakdown_daily, one row per (ymd, device_class,
--   browser, locale).
-- Rules (docs/queries.md Q17, "Session", "User key"; the sessions as segment_log_session.sql, Q02):
--   * events deduplicated by messageId (earliest received_at); sessions of the date (the KST
--     date of their first event), each classified by its first event (by "timestamp", then
--     message_id), so the sessions of a date add up to sessions_daily's (Q10);
--   * device_class: 'app' for the app source; 'mobile' when context.userAgentData.mobile is
--     true, or the user agent contains mobi/android/iphone/ipad/ipod (any case); else 'desktop';
--   * browser: the first brand of context.userAgentData.brands (in array order) that is not a
--     GREASE placeholder ("Not A Brand", "Not/A)Brand", "Not=A?Brand": not.?a.?brand, any case);
--     else from the user agent, most specific token first (Edge, Samsung Internet, Whale, Opera
--     and KakaoTalk also say Chrome/Safari): '(not set)' without a user agent, 'Other' when no
--     token matches;
--   * locale: context.locale trimmed, '(not set)' when missing or empty;
--   * users = distinct session user keys (the greatest identified key among the session's
--     events, else its greatest key), sessions = sessions.

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
        context,
        nvl(anonymous_id, user_id) as session_key
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
        session_key,
        session_number,
        nvl(max(case when is_identified then user_key end), max(user_key)) as user_key,
        min(event_at_utc) as start_utc
    from ranked
    group by session_key, session_number
),

-- The first event of each session of the date, with its device fields.
first_events as (
    select
        sessions.session_key,
        sessions.session_number,
        sessions.user_key,
        case ranked.source_id
            when 'wXsRmVq7Lk' then 'web'
            when 'aPp4Tz9QmN' then 'app'
        end as platform,
        json_extract_path_text(ranked.context, 'userAgent') as user_agent,
        json_extract_path_text(ranked.context, 'userAgentData', 'mobile') as ua_mobile,
        json_extract_path_text(ranked.context, 'userAgentData', 'brands') as ua_brands,
        json_extract_path_text(ranked.context, 'locale') as locale,
        to_char(convert_timezone('UTC', 'Asia/Seoul', sessions.start_utc), 'YYYY-MM-DD') as ymd
    from sessions
    inner join ranked
        on
            sessions.session_key = ranked.session_key
            and sessions.session_number = ranked.session_number
            and ranked.event_rank = 1
    where to_char(convert_timezone('UTC', 'Asia/Seoul', sessions.start_utc), 'YYYY-MM-DD') = :'ymd'
),

-- Positions in a client-hint brand list (browsers send 2-3 brands).
positions as (
    select 0 as pos union all select 1 union all select 2 union all select 3 union all select 4
    union all select 5 union all select 6 union all select 7 union all select 8 union all select 9
),

brands as (
    select
        first_events.session_key,
        first_events.session_number,
        json_extract_path_text(json_extract_array_element_text(first_events.ua_brands, positions.pos), 'brand') as brand,
        positions.pos
    from first_events
    inner join positions on positions.pos < json_array_length(first_events.ua_brands)
),

first_brands as (
    select
        session_key,
        session_number,
        brand,
        row_number() over (partition by session_key, session_number order by pos) as brand_rank
    from brands
    where regexp_count(brand, 'not.?a.?brand', 1, 'i') = 0
),

classified as (
    select
        first_events.user_key,
        case
            when first_events.platform = 'app' then 'app'
            when first_events.ua_mobile = 'true' then 'mobile'
            when regexp_count(first_events.user_agent, 'mobi|android|iphone|ipad|ipod', 1, 'i') > 0 then 'mobile'
            else 'desktop'
        end as device_class,
        nvl(
            first_brands.brand,
            case
                when first_events.user_agent is null or trim(first_events.user_agent) = '' then '(not set)'
                when first_events.user_agent ~ 'Edg(e|A|iOS)?/' then 'Microsoft Edge'
                when first_events.user_agent ~ 'SamsungBrowser/' then 'Samsung Internet'
                when first_events.user_agent ~ 'Whale/' then 'Whale'
                when first_events.user_agent ~ '(OPR|Opera)/' then 'Opera'
                when first_events.user_agent ~ 'KAKAOTALK' then 'KakaoTalk'
                when first_events.user_agent ~ '(Chrome|CriOS)/' then 'Chrome'
                when first_events.user_agent ~ '(Firefox|FxiOS)/' then 'Firefox'
                when first_events.user_agent ~ 'Safari/' then 'Safari'
                else 'Other'
            end
        ) as browser,
        nvl(nullif(trim(first_events.locale), ''), '(not set)') as locale,
        first_events.ymd
    from first_events
    left join first_brands
        on
            first_events.session_key = first_brands.session_key
            and first_events.session_number = first_brands.session_number
            and first_brands.brand_rank = 1
)

select
    device_class,
    browser,
    locale,
    count(distinct user_key) as users,
    count(*) as sessions,
    ymd
from classified
group by ymd, device_class, browser, locale
