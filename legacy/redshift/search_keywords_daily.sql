-- Q14 search_keywords_daily (docs/queries.md Q14): what people search for on one KST business date.
--
-- Legacy Amazon Redshift SQL, as the analytics team ran it over the raw events tables.
-- Parameter: :'ymd' = the KST business date 'YYYY-MM-DD' (psql variable syntax:
--   psql -v ymd=2021-01-04 -f legacy/redshift/search_keywords_daily.sql; the parity harness substitutes it).
-- Reads: legacy_raw.web_app_events (page views, and every event for the identity links) and
--   legacy_raw.procedure_events (the "procedure" source), one row per delivery
--   (legacy/raw_tables.sql). Uses the team's UDF f_url_decode (a Python UDF on Redshift, in the
--   shim here: legacy/shim/redshift_shim.sql).
-- Returns the columns of marts.search_keywords_daily, one row per (ymd, keyword): searches,
--   unique_searchers.
-- Rules (docs/queries.md Q14, "Page view", "User key"):
--   * events of both sources deduplicated by messageId (earliest received_at), of the date;
--   * a search is
--       - a web/app page view (`page`, `screen`) or a procedure-source `page` call whose
--         context.page.search carries ?q=, ?keyword= or ?query= (the first of them): its value,
--         URL-decoded ('+' a space, %XX as UTF-8); the procedure source sometimes sends
--         context.page.search as a JSON object: then its "keyword" (not decoded);
--       - a procedure-source `track` call with properties.search_keyword (Search Performed);
--   * keyword = that text trimmed and lower-cased; empty keywords are no search;
--   * unique_searchers = distinct user keys: user_id, else the user id the anonymous id is
--     stitched to by the web/app events (the earliest identify call carrying both ids, else the
--     earliest event carrying both, ties by message_id; the procedure source's own identify
--     calls are not part of the identity map, as in Q18), else anonymous_id.
--   Redshift's regexp_substr returns '' (not NULL) when nothing matches: the final nullif drops it.

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
        json_extract_path_text(context, 'page', 'search') as page_search
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

procedure_deliveries as (
    select
        e.*,
        row_number() over (partition by e.message_id order by e.received_at) as delivery_rank
    from legacy_raw.procedure_events as e
),

searches as (
    -- kind 'query': a context.page.search to read the keyword from; kind 'keyword': the keyword itself
    select
        'query' as kind,
        ev.page_search as search_text,
        nvl(ev.user_id, links.user_id, ev.anonymous_id) as user_key
    from events as ev
    left join links on ev.anonymous_id = links.anonymous_id and links.link_rank = 1
    where
        ev.type in ('page', 'screen')
        and to_char(convert_timezone('UTC', 'Asia/Seoul', ev.event_at_utc), 'YYYY-MM-DD') = :'ymd'

    union all

    select
        case pr.type when 'track' then 'keyword' else 'query' end as kind,
        case pr.type
            when 'track' then json_extract_path_text(pr.properties, 'search_keyword')
            else json_extract_path_text(pr.context, 'page', 'search')
        end as search_text,
        nvl(pr.user_id, links.user_id, pr.anonymous_id) as user_key
    from procedure_deliveries as pr
    left join links on pr.anonymous_id = links.anonymous_id and links.link_rank = 1
    where
        pr.delivery_rank = 1
        and pr.type in ('track', 'page')
        and to_char(convert_timezone('UTC', 'Asia/Seoul', pr."timestamp"), 'YYYY-MM-DD') = :'ymd'
),

keywords as (
    select
        nullif(lower(trim(
            case
                when kind = 'keyword' then search_text
                when left(ltrim(search_text), 1) = '{' then json_extract_path_text(search_text, 'keyword', true)
                else f_url_decode(regexp_replace(
                    regexp_substr(search_text, '(^|[?&])(q|keyword|query)=[^&#]*'),
                    '^[?&]?(q|keyword|query)=', ''
                ))
            end
        )), '') as keyword,
        user_key
    from searches
)

select
    keyword,
    count(*) as searches,
    count(distinct user_key) as unique_searchers,
    :'ymd' as ymd
from keywords
where keyword is not null
group by keyword
