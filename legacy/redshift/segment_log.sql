-- Q01 segment_log (docs/queries.md Q01): every web/app event of one KST business date,
-- deduplicated by messageId and flattened for BI.
--
-- Legacy Amazon Redshift SQL, as the analytics team ran it over the raw events table.
-- Parameter: :'ymd' = the KST business date 'YYYY-MM-DD' (psql variable syntax:
--   psql -v ymd=2021-01-01 -f legacy/redshift/segment_log.sql; the parity harness substitutes it).
-- Reads: legacy_raw.web_app_events (one row per delivery; JSON text in context/properties;
--   legacy/raw_tables.sql). Returns every column of marts.segment_log, one row per message_id.
-- Rules: duplicate deliveries of a messageId keep the earliest received_at; the business date
--   is the KST date of "timestamp"; calendar keys as docs/queries.md defines them; page_name from
--   properties.page.name, or properties.page itself when older events send a plain string.

with deliveries as (
    select
        e.*,
        row_number() over (partition by e.message_id order by e.received_at) as delivery_rank
    from legacy_raw.web_app_events as e
),

events as (
    select
        d.*,
        convert_timezone('UTC', 'Asia/Seoul', d."timestamp") as kst,
        json_extract_path_text(d.properties, 'page') as properties_page
    from deliveries as d
    where
        d.delivery_rank = 1
        and to_char(convert_timezone('UTC', 'Asia/Seoul', d."timestamp"), 'YYYY-MM-DD') = :'ymd'
)

select
    message_id,
    anonymous_id,
    user_id,
    type,
    event,
    kst as event_at_kst,
    "timestamp" as event_at_utc,
    received_at,
    to_char(kst, 'YYYY-MM') as ym,
    to_char(dateadd('day', 1, kst), 'IYYY-IW') as yw,
    trunc(dateadd('day', -1, date_trunc('week', dateadd('day', 1, kst)))) as ywd,
    source_id,
    case source_id
        when 'wXsRmVq7Lk' then 'web'
        when 'aPp4Tz9QmN' then 'app'
    end as platform,
    json_extract_path_text(context, 'userAgent') as context_user_agent,
    json_extract_path_text(context, 'ip') as context_ip,
    json_extract_path_text(context, 'locale') as context_locale,
    json_extract_path_text(context, 'page', 'url') as context_page_url,
    json_extract_path_text(context, 'page', 'path') as context_page_path,
    json_extract_path_text(context, 'page', 'referrer') as context_page_referrer,
    json_extract_path_text(properties, 'path') as properties_path,
    case
        when left(ltrim(properties_page), 1) = '{' then json_extract_path_text(properties_page, 'name', true)
        else properties_page
    end as page_name,
    -- Added after the hand-over (the conversion carries Segment's own page/screen name and
    -- category too): the Redshift spelling of marts.segment_log.call_name / call_category.
    case when type in ('page', 'screen') then name end as call_name,
    case when type in ('page', 'screen') then category end as call_category,
    json_extract_path_text(properties, 'button', 'name') as button_name,
    json_extract_path_text(properties, 'action', 'name') as action_name,
    json_extract_array_element_text(json_extract_path_text(properties, 'action', 'hospital'), 0) as action_hospital_id,
    json_extract_array_element_text(json_extract_path_text(properties, 'action', 'hospital'), 1) as action_hospital_name,
    json_extract_array_element_text(json_extract_path_text(properties, 'button', 'hospital'), 0) as button_hospital_id,
    json_extract_array_element_text(json_extract_path_text(properties, 'button', 'hospital'), 1) as button_hospital_name,
    json_extract_path_text(properties, 'properties', 'hospitalId') as properties_hospital_id,
    json_extract_path_text(properties, 'properties', 'pageName') as properties_page_name,
    json_extract_path_text(properties, 'properties', 'routeName') as properties_route_name,
    json_extract_path_text(properties, 'properties', 'to') as properties_to,
    properties,
    context,
    to_char(kst, 'YYYY-MM-DD') as ymd
from events
