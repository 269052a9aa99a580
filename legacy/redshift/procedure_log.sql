-- Q03 procedure_log (docs/queries.md Q03): the events of the "procedure" Segment source (its own
-- schema) of one KST business date, deduplicated by messageId and flattened for BI.
--
-- Legacy Amazon Redshift SQL, as the analytics team ran it over the raw events table.
-- Parameter: :'ymd' = the KST business date 'YYYY-MM-DD' (psql variable syntax:
--   psql -v ymd=2021-01-04 -f legacy/redshift/procedure_log.sql; the parity harness substitutes it).
-- Reads: legacy_raw.procedure_events (one row per delivery; legacy/raw_tables.sql).
-- Returns every column of marts.procedure_log, one row per message_id.
-- Rules: the earliest received_at of a messageId's deliveries wins; page_search keeps the text
--   of context.page.search, a JSON object's text when the source sends an object;
--   amplitude_session_id is integrations."Actions Amplitude".session_id.

with deliveries as (
    select
        e.*,
        row_number() over (partition by e.message_id order by e.received_at) as delivery_rank
    from legacy_raw.procedure_events as e
),

events as (
    select
        d.*,
        convert_timezone('UTC', 'Asia/Seoul', d."timestamp") as kst
    from deliveries as d
    where
        d.delivery_rank = 1
        and to_char(convert_timezone('UTC', 'Asia/Seoul', d."timestamp"), 'YYYY-MM-DD') = :'ymd'
)

select
    message_id,
    type,
    event,
    name,
    category,
    user_id,
    json_extract_path_text(traits, 'customerId') as customer_id,
    kst as event_at_kst,
    to_char(kst, 'YYYY-MM') as ym,
    to_char(dateadd('day', 1, kst), 'IYYY-IW') as yw,
    trunc(dateadd('day', -1, date_trunc('week', dateadd('day', 1, kst)))) as ywd,
    json_extract_path_text(context, 'page', 'path') as page_path,
    json_extract_path_text(context, 'page', 'referrer') as page_referrer,
    json_extract_path_text(context, 'page', 'title') as page_title,
    json_extract_path_text(context, 'page', 'url') as page_url,
    json_extract_path_text(context, 'page', 'search') as page_search,
    json_extract_path_text(properties, 'search_keyword') as search_keyword,
    json_extract_path_text(properties, 'search_board_id') as search_board_id,
    json_extract_path_text(properties, 'search_type') as search_type,
    json_extract_path_text(properties, 'url') as properties_url,
    json_extract_path_text(properties, 'promotion_id') as promotion_id,
    json_extract_path_text(properties, 'creative') as creative,
    json_extract_path_text(properties, 'name') as promotion_name,
    json_extract_path_text(properties, 'position') as position,
    json_extract_path_text(integrations, 'Actions Amplitude', 'session_id')::bigint as amplitude_session_id,
    version,
    to_char(kst, 'YYYY-MM-DD') as ymd
from events
