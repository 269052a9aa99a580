{{ config(materialized='table', partition_by=none) }}

{#-
  Q18: who each user is, one row per user key (a user id, or an anonymous id never stitched
  to one). Rebuilt from the cumulative state int_users on every run: its size follows the
  number of users, not the days of history.
-#}

with

users as (
    select * from {{ latest_state(ref('int_users'), 'state_partition') }} as state
),

final as (
    select
        user_key,
        user_id,
        anonymous_ids,
        customer_id,
        traits,
        {{ to_kst('first_seen_at_utc') }} as first_seen_at,
        {{ to_kst('last_seen_at_utc') }} as last_seen_at,
        {{ kst_ymd('first_seen_at_utc') }} as first_seen_ymd
    from users
)

select * from final
