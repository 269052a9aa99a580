{#-
  Q10: sessions per business date (the date of their first event) and platform (of their first
  event). Durations are whole seconds from the first to the last event; the median of an even
  count is the mean of the two middle values (as Redshift's median). A bounce is a session of
  exactly one event, and that event a page view.
-#}

with

sessions as (
    {{ owned_rows(ref('int_sessions')) }}
),

final as (
    select
        platform,
        count(*) as sessions,
        count(distinct user_key) as users,
        avg(duration_seconds) as avg_duration_seconds,
        percentile(duration_seconds, 0.5) as median_duration_seconds,
        avg(page_view_count) as pages_per_session,
        avg(case when is_bounce then 1 else 0 end) as bounce_rate,
        ymd
    from sessions
    group by ymd, platform
)

select * from final
