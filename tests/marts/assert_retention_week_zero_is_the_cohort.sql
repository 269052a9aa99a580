{#-
  Every user of a cohort is active in the cohort's own week, so for the owned weeks the row
  weeks_since = 0 has retained_users = cohort_size; and cohort_size is at most the number of
  keys int_user_first_seen holds for that week (fewer only when two of them now stitch to one
  user). One row per cohort that breaks this.
-#}

with

week_zero as (
    select *
    from {{ ref('retention_weekly_cohorts') }}
    where
        weeks_since = 0
        and cast(activity_ywd as string) in {{ sql_string_list(owned_ywds()) }}
),

first_seen as (
    select
        first_seen_ywd,
        count(distinct user_key) as first_seen_keys
    from {{ ref('int_user_first_seen') }}
    where cast(first_seen_ywd as string) in {{ sql_string_list(owned_ywds()) }}
    group by first_seen_ywd
)

select
    coalesce(week_zero.cohort_ywd, first_seen.first_seen_ywd) as cohort_ywd,
    week_zero.cohort_size,
    week_zero.retained_users,
    first_seen.first_seen_keys
from week_zero
full outer join first_seen on week_zero.cohort_ywd = first_seen.first_seen_ywd
where
    not (week_zero.retained_users <=> week_zero.cohort_size)
    or not coalesce(week_zero.cohort_size <= first_seen.first_seen_keys, false)
