{#-
  Q14: what people search for. A search is
    - a web/app page view whose context.page.search carries ?q=, ?keyword= or ?query=;
    - a procedure-source page view whose context.page.search carries one (as a query string or
      as a JSON object's "keyword");
    - a procedure-source track call with properties.search_keyword (Search Performed).
  Keywords are URL-decoded, trimmed and lower-cased. unique_searchers counts user keys (the
  procedure source's ids stitched the same way as web/app).
-#}

with

web_app as (
    select
        {{ search_keyword('context_page_search') }} as keyword,
        user_key,
        ymd
    from {{ ref('int_sessionised_events') }}
    where
        ymd in {{ sql_string_list(owned_ymds()) }}
        and is_page_view
),

stitching as (
    select * from {{ ref('int_identity_stitching') }}
),

procedure as (
    select
        case
            when procedure_events.type = 'track' then nullif(lower(trim(procedure_events.search_keyword)), '')
            when procedure_events.type = 'page' then {{ search_keyword('procedure_events.page_search') }}
        end as keyword,
        coalesce(procedure_events.user_id, stitching.user_id, procedure_events.anonymous_id) as user_key,
        procedure_events.ymd
    from {{ ref('stg_segment__procedure_events') }} as procedure_events
    left join stitching on procedure_events.anonymous_id = stitching.anonymous_id
    where procedure_events.ymd in {{ sql_string_list(owned_ymds()) }}
),

searches as (
    select * from web_app
    union all
    select * from procedure
),

final as (
    select
        keyword,
        count(*) as searches,
        count(distinct user_key) as unique_searchers,
        ymd
    from searches
    where keyword is not null
    group by ymd, keyword
)

select * from final
