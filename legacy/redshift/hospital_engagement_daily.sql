-- Q08 hospital_engagement_daily (docs/queries.md Q08): which hospitals get clicks and actions on one
-- KST business date.
--
-- Legacy Amazon Redshift SQL, as the analytics team ran it over the raw events table.
-- Parameter: :'ymd' = the KST business date 'YYYY-MM-DD' (psql variable syntax:
--   psql -v ymd=2021-01-04 -f legacy/redshift/hospital_engagement_daily.sql; the harness substitutes it).
-- Reads: legacy_raw.web_app_events (one row per delivery; legacy/raw_tables.sql), all of it for
--   the identity links behind the user keys.
-- Returns the columns of marts.hospital_engagement_daily, one row per (ymd, hospital_id):
--   hospital_name, button_clicks, actions, page_views, unique_users.
-- Rules (docs/queries.md Q08, Q01's hospital columns):
--   * events deduplicated by messageId (earliest received_at), of the date;
--   * an event names a hospital through the clicked button (properties.button.hospital[0], name
--     [1]), the performed action (properties.action.hospital[0], name [1]) or the app's
--     navigation (properties.properties.hospitalId, no name); arrays are 0-based in Redshift;
--     ids trimmed, empty ids ignored; an event naming one hospital twice counts once;
--   * button_clicks / actions = events naming it through the button / the action;
--     page_views = page views (`page`, `screen`) naming it through any of the three;
--     unique_users = distinct user keys of the events naming it (user_id, else the stitched
--     user id: the earliest identify call carrying both ids, else the earliest event carrying
--     both, ties by message_id; else anonymous_id);
--   * hospital_name = the (trimmed, non-empty) name sent with the day's latest event that
--     carried one (events at the same instant: the greatest message_id).

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
        nvl(type in ('page', 'screen'), false) as is_page_view,
        json_extract_path_text(properties, 'button', 'hospital') as button_hospital,
        json_extract_path_text(properties, 'action', 'hospital') as action_hospital,
        json_extract_path_text(properties, 'properties', 'hospitalId') as properties_hospital_id
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

day_events as (
    select
        ev.*,
        nvl(ev.user_id, links.user_id, ev.anonymous_id) as user_key
    from events as ev
    left join links on ev.anonymous_id = links.anonymous_id and links.link_rank = 1
    where to_char(convert_timezone('UTC', 'Asia/Seoul', ev.event_at_utc), 'YYYY-MM-DD') = :'ymd'
),

mentions as (
    select
        message_id, user_key, is_page_view, event_at_utc, 'button' as via,
        trim(json_extract_array_element_text(button_hospital, 0)) as hospital_id,
        nullif(trim(json_extract_array_element_text(button_hospital, 1)), '') as hospital_name
    from day_events
    union all
    select
        message_id, user_key, is_page_view, event_at_utc, 'action' as via,
        trim(json_extract_array_element_text(action_hospital, 0)) as hospital_id,
        nullif(trim(json_extract_array_element_text(action_hospital, 1)), '') as hospital_name
    from day_events
    union all
    select
        message_id, user_key, is_page_view, event_at_utc, 'properties' as via,
        trim(properties_hospital_id) as hospital_id,
        null as hospital_name
    from day_events
),

named as (
    select
        mentions.*,
        row_number() over (
            partition by hospital_id
            order by case when hospital_name is not null then 0 else 1 end, event_at_utc desc, message_id desc, via desc
        ) as name_rank
    from mentions
    where nullif(hospital_id, '') is not null
)

select
    hospital_id,
    max(case when name_rank = 1 then hospital_name end) as hospital_name,
    count(distinct case when via = 'button' then message_id end) as button_clicks,
    count(distinct case when via = 'action' then message_id end) as actions,
    count(distinct case when is_page_view then message_id end) as page_views,
    count(distinct user_key) as unique_users,
    :'ymd' as ymd
from named
group by hospital_id
