{{
    config(
        partition_by=['first_seen_ymd'],
    )
}}

{#-
  The first business date of every user key (Q11 new users, Q12 cohorts), maintained
  incrementally: the run for D adds the keys active in D-L..D that no earlier partition
  (first_seen_ymd < D-L) knows, directly or through an anonymous id now stitched to them.
  So a run reads this table's keys and D-L..D's activity, never the event history.
  Partition X is final with the run for X+L. Backfills must run in date order (the CLI's
  range run does): a date run after later ones does not remove those later dates' keys.
-#}

-- depends_on: {{ ref('int_identity_stitching') }}

with

window_activity as (
    select
        user_key,
        min(ymd) as first_seen_ymd,
        min(first_event_at_utc) as first_seen_at_utc
    from {{ ref('int_user_daily_activity') }}
    where ymd in {{ sql_string_list(owned_ymds()) }}
    group by user_key
),

{% if is_incremental() %}
stitching as (
    select * from {{ ref('int_identity_stitching') }}
),

known_before as (
    select distinct coalesce(stitching.user_id, first_seen.user_key) as user_key
    from {{ this }} as first_seen
    left join stitching on first_seen.user_key = stitching.anonymous_id
    where first_seen.first_seen_ymd < '{{ owned_ymds()[0] }}'
),
{% endif %}

new_users as (
    select
        window_activity.user_key,
        window_activity.first_seen_at_utc,
        {{ kst_ywd('window_activity.first_seen_at_utc') }} as first_seen_ywd,
        window_activity.first_seen_ymd
    from window_activity
    {% if is_incremental() %}
    left anti join known_before on window_activity.user_key = known_before.user_key
    {% endif %}
),

{#
  Dynamic partition overwrite replaces only the partitions a run writes rows to. An owned date
  can lose all its new users on a rerun (its only newcomer turned out to be a known user who
  logged in), so a date without new users gets one row with a null user_key: its partition is
  rewritten, never left with stale keys. Counts ignore it (count(distinct user_key)).
#}
owned_dates as (
    select explode({{ sql_array(owned_ymds()) }}) as ymd
),

empty_dates as (
    select
        cast(null as string) as user_key,
        cast(null as timestamp) as first_seen_at_utc,
        cast(null as date) as first_seen_ywd,
        owned_dates.ymd as first_seen_ymd
    from owned_dates
    left anti join new_users on owned_dates.ymd = new_users.first_seen_ymd
),

final as (
    select * from new_users
    union all
    select * from empty_dates
)

select * from final
