-- Q07 article_views_daily (docs/queries.md Q07): the most read community articles of one KST
-- business date.
--
-- Legacy Amazon Redshift SQL, as the analytics team ran it over the raw events table.
-- Parameter: :'ymd' = the KST business date 'YYYY-MM-DD' (psql variable syntax:
--   psql -v ymd=2021-01-04 -f legacy/redshift/article_views_daily.sql; the parity harness substitutes it).
-- Reads: legacy_raw.web_app_events (one row per delivery; legacy/raw_tables.sql), all of it for
--   the identity links behind the user keys.
-- Returns the columns of marts.article_views_daily, one row per (ymd, article_id): views,
--   unique_readers.
-- Rules (docs/queries.md "Page view", "User key", Q07):
--   * events deduplicated by messageId (earliest received_at);
--   * an article view is a page view (`page` or `screen`) of the date whose page_name
--     (properties.page.name, or the plain-string properties.page) is 'ArticlesArticle';
--   * article_id = the last segment of the page path (context.page.path, else properties.path,
--     else properties.properties.path), a query string / fragment and trailing slashes ignored:
--     /community/articles/123/?x=1 -> '123'; '(not set)' when there is none. Redshift's
--     regexp_substr returns '' when nothing matches, hence the nullif;
--   * unique_readers = distinct user keys (user_id, else the stitched user id: the earliest
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

article_views as (
    select
        nullif(
            regexp_substr(rtrim(split_part(split_part(ev.page_path, '?', 1), '#', 1), '/'), '[^/]+$'),
            ''
        ) as article_id,
        nvl(ev.user_id, links.user_id, ev.anonymous_id) as user_key
    from events as ev
    left join links on ev.anonymous_id = links.anonymous_id and links.link_rank = 1
    where
        ev.is_page_view
        and case
            when left(ltrim(ev.properties_page), 1) = '{' then json_extract_path_text(ev.properties_page, 'name', true)
            else ev.properties_page
        end = 'ArticlesArticle'
        and to_char(convert_timezone('UTC', 'Asia/Seoul', ev.event_at_utc), 'YYYY-MM-DD') = :'ymd'
)

select
    nvl(nullif(trim(article_id), ''), '(not set)') as article_id,
    count(*) as views,
    count(distinct user_key) as unique_readers,
    :'ymd' as ymd
from article_views
group by nvl(nullif(trim(article_id), ''), '(not set)')
