{#-
  Q05: DAU, WAU and MAU for each owned date X: distinct user keys on X, over the 7 KST days
  X-6..X and over the 30 days X-29..X. Reads the daily activity of D-L-29..D only (a fixed
  window), never the event history; each day's key is resolved through the run's stitching,
  so a visitor who logged in during the window counts once. Until 30 days of history exist,
  MAU covers what exists.
-#}

with

stitching as (
    select * from {{ ref('int_identity_stitching') }}
),

{# Final dates keep the key they were written with: resolve it through today's stitching, so a
    visitor who logged in during the 30 days counts once. #}
activity as (
    select
        coalesce(stitching.user_id, activity.user_key) as user_key,
        to_date(activity.ymd) as activity_date
    from {{ ref('int_user_daily_activity') }} as activity
    left join stitching on activity.user_key = stitching.anonymous_id
    where activity.ymd in {{ sql_string_list(window_ymds(29)) }}
),

dates as (
    select to_date(ymd) as report_date
    from (
        select explode({{ sql_array(owned_ymds()) }}) as ymd
    )
),

final as (
    select
        count(distinct case when activity.activity_date = dates.report_date then activity.user_key end) as dau,
        count(distinct case
            when activity.activity_date >= date_sub(dates.report_date, 6) then activity.user_key
        end) as wau,
        count(distinct activity.user_key) as mau,
        date_format(dates.report_date, 'yyyy-MM-dd') as ymd
    from dates
    left join activity
        on
            activity.activity_date between date_sub(dates.report_date, 29) and dates.report_date
    group by dates.report_date
)

select * from final
