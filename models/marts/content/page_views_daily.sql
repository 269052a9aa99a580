{#-
  Q06: page views (page on web, screen on app) by page name and path. avg_seconds_on_page is
  the mean time from a page view to the next event of the same session, in whole seconds
  (Redshift datediff); the last event of a session has no such time and is left out, as are
  page views without a session (no id at all). Null when none of the views has a time.
-#}

with

page_views as (
    {{ owned_rows(ref('int_sessionised_events')) }}
        and is_page_view
),

final as (
    select
        {{ not_set('page_name') }} as page_name,
        {{ not_set('page_path') }} as page_path,
        count(*) as views,
        count(distinct user_key) as unique_viewers,
        avg(seconds_to_next_event) as avg_seconds_on_page,
        ymd
    from page_views
    group by ymd, {{ not_set('page_name') }}, {{ not_set('page_path') }}
)

select * from final
