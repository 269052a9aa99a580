{#-
  Active users tie out across Q04, Q05 and Q11 for the run's owned dates:
    sum of daily_active_users.users over platforms and login states >= dau (a user on web and
    app counts on both), dau <= wau <= mau, new_users <= users, and Q11's users = Q05's dau
    (one counts the date's activity rows, the other resolves them through the stitching).
  Returns one row per date that breaks a rule.
-#}

with

dau_by_platform as (
    select
        ymd,
        sum(users) as platform_users
    from {{ ref('daily_active_users') }}
    where ymd in {{ sql_string_list(owned_ymds()) }}
    group by ymd
),

rolling as (
    select * from {{ ref('active_users_rolling') }}
    where ymd in {{ sql_string_list(owned_ymds()) }}
),

new_vs_returning as (
    select * from {{ ref('new_vs_returning_daily') }}
    where ymd in {{ sql_string_list(owned_ymds()) }}
)

select
    rolling.ymd,
    dau_by_platform.platform_users,
    rolling.dau,
    rolling.wau,
    rolling.mau,
    new_vs_returning.users,
    new_vs_returning.new_users
from rolling
full outer join dau_by_platform on rolling.ymd = dau_by_platform.ymd
full outer join new_vs_returning on coalesce(rolling.ymd, dau_by_platform.ymd) = new_vs_returning.ymd
where
    not coalesce(dau_by_platform.platform_users >= rolling.dau, rolling.dau = 0)
    or not (rolling.dau <= rolling.wau and rolling.wau <= rolling.mau)
    or not coalesce(new_vs_returning.users = rolling.dau, rolling.dau = 0)
    or not coalesce(new_vs_returning.new_users <= new_vs_returning.users, true)
