{#-
  Q07: views of community articles: page views whose page_name is 'ArticlesArticle'; the
  article id is the last segment of the page path (/community/articles/123 -> '123', a query
  string or trailing slash ignored).
-#}

with

article_views as (
    select
        *,
        {{ article_id_from_path('page_path') }} as article_id
    from {{ ref('int_sessionised_events') }}
    where
        ymd in {{ sql_string_list(owned_ymds()) }}
        and is_page_view
        and page_name = 'ArticlesArticle'
),

final as (
    select
        {{ not_set('article_id') }} as article_id,
        count(*) as views,
        count(distinct user_key) as unique_readers,
        ymd
    from article_views
    group by ymd, {{ not_set('article_id') }}
)

select * from final
