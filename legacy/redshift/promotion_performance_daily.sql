-- Q15 promotion_performance_daily (docs/queries.md Q15): impressions, clicks and CTR of each
-- promotion banner on one KST business date.
--
-- Legacy Amazon Redshift SQL, as the analytics team ran it over the raw events table.
-- Parameter: :'ymd' = the KST business date 'YYYY-MM-DD' (psql variable syntax:
--   psql -v ymd=2021-01-04 -f legacy/redshift/promotion_performance_daily.sql; the harness substitutes it).
-- Reads: legacy_raw.procedure_events (the "procedure" source, one row per delivery;
--   legacy/raw_tables.sql).
-- Returns the columns of marts.promotion_performance_daily, one row per (ymd, promotion_id,
--   creative, position): promotion_name, impressions, clicks, ctr.
-- Rules (docs/queries.md Q15, Q03's promotion columns):
--   * events deduplicated by messageId (earliest received_at), of the date;
--   * impressions = `Promotion Viewed` events, clicks = `Promotion Clicked` events;
--   * a banner is properties.{promotion_id, creative, position}, each trimmed, '(not set)' when
--     missing or empty;
--   * ctr = clicks / impressions as a fraction (cast: integer division would give 0 for 1/3),
--     NULL when there were no impressions (it can exceed 1: clicks without their view event);
--   * promotion_name = properties.name of the banner's latest event of the day that sent one
--     (events at the same instant: the greatest message_id).

with deliveries as (
    select
        e.*,
        row_number() over (partition by e.message_id order by e.received_at) as delivery_rank
    from legacy_raw.procedure_events as e
),

promotion_events as (
    select
        message_id,
        event,
        "timestamp" as event_at_utc,
        nvl(nullif(trim(json_extract_path_text(properties, 'promotion_id')), ''), '(not set)') as promotion_id,
        nvl(nullif(trim(json_extract_path_text(properties, 'creative')), ''), '(not set)') as creative,
        nvl(nullif(trim(json_extract_path_text(properties, 'position')), ''), '(not set)') as position,
        json_extract_path_text(properties, 'name') as promotion_name
    from deliveries
    where
        delivery_rank = 1
        and event in ('Promotion Viewed', 'Promotion Clicked')
        and to_char(convert_timezone('UTC', 'Asia/Seoul', "timestamp"), 'YYYY-MM-DD') = :'ymd'
),

named as (
    select
        promotion_events.*,
        row_number() over (
            partition by promotion_id, creative, position
            order by case when promotion_name is not null then 0 else 1 end, event_at_utc desc, message_id desc
        ) as name_rank
    from promotion_events
)

select
    promotion_id,
    creative,
    position,
    max(case when name_rank = 1 then promotion_name end) as promotion_name,
    sum(case when event = 'Promotion Viewed' then 1 else 0 end) as impressions,
    sum(case when event = 'Promotion Clicked' then 1 else 0 end) as clicks,
    sum(case when event = 'Promotion Clicked' then 1 else 0 end)::float
        / nullif(sum(case when event = 'Promotion Viewed' then 1 else 0 end), 0) as ctr,
    :'ymd' as ymd
from named
group by promotion_id, creative, position
