{#-
  The traits snapshot (Q18) keeps at most one current version (dbt_valid_to null) per user id,
  versions of a user never overlap, and every user id of dim_users has a current version.
  One row per user id that breaks this.
-#}

with

traits_versions as (
    select
        user_id,
        dbt_valid_from,
        dbt_valid_to,
        lead(dbt_valid_from) over (partition by user_id order by dbt_valid_from) as next_valid_from
    from {{ ref('user_traits_snapshot') }}
),

per_user as (
    select
        user_id,
        count_if(dbt_valid_to is null) as current_versions,
        count_if(
            next_valid_from is not null
            and (dbt_valid_to is null or dbt_valid_to != next_valid_from)
        ) as overlapping_versions
    from traits_versions
    group by user_id
),

users as (
    select user_id
    from {{ ref('dim_users') }}
    where user_id is not null
)

select
    coalesce(per_user.user_id, users.user_id) as user_id,
    per_user.current_versions,
    per_user.overlapping_versions
from per_user
full outer join users on per_user.user_id = users.user_id
where
    not coalesce(per_user.current_versions = 1, false)
    or coalesce(per_user.overlapping_versions, 0) > 0
