{{
    config(
        partition_by=['state_partition'],
        post_hook="{{ state_prune('state_partition') }}",
    )
}}

{#-
  Every user, as a cumulative state (dim_users, Q18, selects from it). Each run merges its
  owned dates' activity into the rows the table already holds:
    - an anonymous key linked to a user id is folded into that user (its first/last seen and
      anonymous ids are merged and the anonymous row disappears). Folding uses every link the
      map holds, not only those up to D (as the marts do), so rerunning an old date after
      later ones cannot bring a folded anonymous row back: the state only ever merges;
    - first_seen_at is the earliest, last_seen_at the latest instant seen;
    - the traits (customer id) are those of the latest identify call.
  Every merge rule is a min, max, set union or latest-by-time, so a rerun changes nothing.
  Each run writes a new version (state_partition) and reads the latest complete one, as
  int_identity_map does (macros/state/state_versions.sql).
-#}

with

{# Each anonymous id's user: its earliest identify link, else its earliest link of any kind
   (over every received day the map holds). #}
links as (
    select
        anonymous_id,
        coalesce(min({{ identity_link('identify') }}).user_id, min({{ identity_link('any') }}).user_id) as user_id
    from {{ latest_state(ref('int_identity_map'), 'map_partition') }} as identity_map
    group by anonymous_id
),

activity as (
    select
        coalesce(links.user_id, activity.user_key) as user_key,
        activity.is_identified or links.user_id is not null as is_identified,
        activity.anonymous_ids,
        activity.first_event_at_utc as first_seen_at_utc,
        activity.last_event_at_utc as last_seen_at_utc,
        activity.customer_id,
        activity.traits,
        activity.traits_at_utc
    from {{ ref('int_user_daily_activity') }} as activity
    left join links on activity.user_key = links.anonymous_id
    where activity.ymd in {{ sql_string_list(owned_ymds()) }}
),

{% if is_incremental() %}
known as (
    select
        coalesce(links.user_id, users.user_key) as user_key,
        users.is_identified or links.user_id is not null as is_identified,
        users.anonymous_ids,
        users.first_seen_at_utc,
        users.last_seen_at_utc,
        users.customer_id,
        users.traits,
        users.traits_at_utc
    from {{ latest_state(this, 'state_partition') }} as users
    left join links on users.user_key = links.anonymous_id
),
{% endif %}

all_rows as (
    select * from activity
    {% if is_incremental() %}
    union all
    select * from known
    {% endif %}
),

merged as (
    select
        user_key,
        bool_or(is_identified) as is_identified,
        array_sort(array_distinct(flatten(collect_list(anonymous_ids)))) as anonymous_ids,
        min(first_seen_at_utc) as first_seen_at_utc,
        max(last_seen_at_utc) as last_seen_at_utc,
        max_by(customer_id, traits_at_utc) as customer_id,
        max_by(traits, traits_at_utc) as traits,
        max(traits_at_utc) as traits_at_utc
    from all_rows
    group by user_key
),

final as (
    select
        user_key,
        case when is_identified then user_key end as user_id,
        is_identified,
        anonymous_ids,
        customer_id,
        traits,
        traits_at_utc,
        first_seen_at_utc,
        last_seen_at_utc,
        '{{ state_version() }}' as state_partition
    from merged
)

select * from final
