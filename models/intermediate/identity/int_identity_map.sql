{{
    config(
        partition_by=['map_partition'],
        post_hook="{{ state_prune('map_partition') }}",
    )
}}

{#-
  Identity stitching (Q18): which user id each anonymous id belongs to.

  A cumulative state with one row per anonymous id and UTC received day (the Segment folder the
  links arrived in): each run merges the links seen in its owned partitions (events carrying
  both anonymousId and userId, and alias calls, whose previousId is linked to their userId)
  into the rows the table already holds. Per row it keeps two links, each the earliest of its
  kind among those received that day:
    identify_*  the earliest explicit link: an `identify` call that carried both ids, or an
                `alias` call (previousId -> userId);
    any_*       the earliest link of any kind.
  Merging keeps the earliest of each (ties broken by message id), so running a date twice, or
  dates in any order, gives the same rows. Keeping the received day lets int_identity_stitching
  resolve the map as of the run for D exactly: only links dated by D and received in the
  folders that run reads (by D), whichever runs came before. Each run writes the merged map as
  a new version (map_partition, macros/state/state_versions.sql) and reads the latest complete
  one, so a run killed at any point leaves the previous map whole.
-#}

with

events as (
    -- an event carrying both ids links its anonymous id to its user id (an identify call's
    -- link is of the identify kind) …
    select
        anonymous_id,
        user_id,
        event_at_utc,
        message_id,
        type = 'identify' as is_identify,
        received_day
    from {{ ref('stg_segment__events') }}
    where
        ymd in {{ sql_string_list(owned_ymds()) }}
        and anonymous_id is not null
        and user_id is not null
    union all
    -- … and an alias call links its previousId to its userId, of the identify kind too
    -- (Segment's Spec: alias merges the previous identity into the user)
    select
        previous_id as anonymous_id,
        user_id,
        event_at_utc,
        message_id,
        true as is_identify,
        received_day
    from {{ ref('stg_segment__events') }}
    where
        ymd in {{ sql_string_list(owned_ymds()) }}
        and type = 'alias'
        and previous_id is not null
        and user_id is not null
        and previous_id != user_id
),

new_links as (
    select
        anonymous_id,
        received_day,
        min(named_struct('at', event_at_utc, 'message_id', message_id, 'user_id', user_id))
        filter (where is_identify) as identify_link,
        min(named_struct('at', event_at_utc, 'message_id', message_id, 'user_id', user_id)) as any_link
    from events
    group by anonymous_id, received_day
),

{% if is_incremental() %}
{%- set known_columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list if execute else [] %}
known_links as (
    {%- if known_columns and 'received_day' not in known_columns %}
    {#- A map written before it kept received days (one row per anonymous id): each of a row's
        two links is taken as received on its own KST date, the earliest folder it can be in
        but one, so stitching as of a date by then still counts it, as it did. #}
    select
        anonymous_id,
        to_date(identify_linked_ymd) as received_day,
        {{ identity_link('identify') }} as identify_link,
        {{ identity_link('identify') }} as any_link
    from {{ latest_state(this, 'map_partition') }} as known
    where identify_user_id is not null
    union all
    select
        anonymous_id,
        to_date(any_linked_ymd) as received_day,
        cast(null as struct<at: timestamp, message_id: string, user_id: string>) as identify_link,
        {{ identity_link('any') }} as any_link
    from {{ latest_state(this, 'map_partition') }} as known
    {%- else %}
    select
        anonymous_id,
        received_day,
        {{ identity_link('identify') }} as identify_link,
        {{ identity_link('any') }} as any_link
    from {{ latest_state(this, 'map_partition') }} as known
    {%- endif %}
),
{% endif %}

all_links as (
    select * from new_links
    {% if is_incremental() %}
    union all
    select * from known_links
    {% endif %}
),

merged as (
    select
        anonymous_id,
        received_day,
        min(identify_link) as identify_link,
        min(any_link) as any_link
    from all_links
    group by anonymous_id, received_day
),

final as (
    select
        merged.anonymous_id,
        merged.received_day,
        identify_link.user_id as identify_user_id,
        identify_link.at as identify_linked_at,
        identify_link.message_id as identify_message_id,
        any_link.user_id as any_user_id,
        any_link.at as any_linked_at,
        any_link.message_id as any_message_id,
        {{ kst_ymd('identify_link.at') }} as identify_linked_ymd,
        {{ kst_ymd('any_link.at') }} as any_linked_ymd,
        '{{ state_version() }}' as map_partition
    from merged
)

select * from final
