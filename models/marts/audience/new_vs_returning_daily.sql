{#-
  Q11: of the users active on a date, how many were seen for the first time ever that date
  (int_user_first_seen) and how many had been seen before. new_users + returning_users = users.
-#}

with

activity as (
    select
        ymd,
        count(distinct user_key) as users
    from {{ ref('int_user_daily_activity') }}
    where ymd in {{ sql_string_list(owned_ymds()) }}
    group by ymd
),

first_seen as (
    select
        first_seen_ymd as ymd,
        count(distinct user_key) as new_users
    from {{ ref('int_user_first_seen') }}
    where first_seen_ymd in {{ sql_string_list(owned_ymds()) }}
    group by first_seen_ymd
),

final as (
    select
        activity.users,
        coalesce(first_seen.new_users, 0) as new_users,
        activity.users - coalesce(first_seen.new_users, 0) as returning_users,
        activity.ymd
    from activity
    left join first_seen on activity.ymd = first_seen.ymd
)

select * from final
