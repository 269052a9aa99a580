-- Q09 button_clicks_daily (docs/queries.md Q09): which buttons are clicked on one KST business date,
-- and where on the page.
--
-- Legacy Amazon Redshift SQL, as the analytics team ran it over the raw events table.
-- Parameter: :'ymd' = the KST business date 'YYYY-MM-DD' (psql variable syntax:
--   psql -v ymd=2021-01-04 -f legacy/redshift/button_clicks_daily.sql; the parity harness substitutes it).
-- Reads: legacy_raw.web_app_events (one row per delivery; legacy/raw_tables.sql), all of it for
--   the identity links behind the user keys.
-- Returns the columns of marts.button_clicks_daily, one row per (ymd, button_name,
--   button_position): clicks, unique_users.
-- Rules (docs/queries.md Q09, Q01's button_name):
--   * events deduplicated by messageId (earliest received_at), of the date;
--   * a click is an event carrying a (trimmed, non-empty) properties.button.name, whatever its
--     type; button_name trimmed; button_position = properties.button.position, trimmed,
--     '(not set)' when missing or empty;
--   * unique_users = distinct user keys (user_id, else the stitched user id: the earliest
--     identify call carrying both ids, else the earliest event carrying both, ties by
--     message_id; else anonymous_id).

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
        json_extract_path_text(properties, 'button', 'name') as button_name,
        json_extract_path_text(properties, 'button', 'position') as button_position
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

clicks as (
    select
        trim(ev.button_name) as button_name,
        nvl(nullif(trim(ev.button_position), ''), '(not set)') as button_position,
        nvl(ev.user_id, links.user_id, ev.anonymous_id) as user_key
    from events as ev
    left join links on ev.anonymous_id = links.anonymous_id and links.link_rank = 1
    where
        nullif(trim(ev.button_name), '') is not null
        and to_char(convert_timezone('UTC', 'Asia/Seoul', ev.event_at_utc), 'YYYY-MM-DD') = :'ymd'
)

select
    button_name,
    button_position,
    count(*) as clicks,
    count(distinct user_key) as unique_users,
    :'ymd' as ymd
from clicks
group by button_name, button_position
