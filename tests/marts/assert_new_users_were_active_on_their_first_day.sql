{#-
  Every key int_user_first_seen adds for an owned date X was active on X (its first-ever
  event is on X), and its first_seen_at_utc is its first event of that day. One row per key
  that breaks this.
-#}

with

first_seen as (
    select *
    from {{ ref('int_user_first_seen') }}
    where
        first_seen_ymd in {{ sql_string_list(owned_ymds()) }}
        and user_key is not null
),

activity as (
    select *
    from {{ ref('int_user_daily_activity') }}
    where ymd in {{ sql_string_list(owned_ymds()) }}
)

select
    first_seen.user_key,
    first_seen.first_seen_ymd,
    first_seen.first_seen_at_utc,
    activity.first_event_at_utc
from first_seen
left join activity
    on
        first_seen.user_key = activity.user_key
        and first_seen.first_seen_ymd = activity.ymd
where not (first_seen.first_seen_at_utc <=> activity.first_event_at_utc)
