{{
    config(
        materialized='incremental',
        incremental_strategy='insert_overwrite',
        partition_by=['map_partition'],
    )
}}

{#-
  Identity stitching (Q18): which user id each anonymous id belongs to.

  One row per anonymous id, kept as a cumulative state: each run merges the links seen in its
  owned partitions (events carrying both anonymousId and userId) into the rows the table
  already holds. Per anonymous id it keeps two links, each the earliest of its kind:
    identify_*  the earliest `identify` call that carried both ids (identify events first of all);
    any_*       the earliest event of any type that carried both ids.
  Merging keeps the earliest of each (ties broken by message id), so running a date twice, or
  dates in any order, gives the same rows. int_identity_stitching resolves the map as of the
  run's date. The whole table is one partition (map_partition = 'all') so that dynamic
  partition overwrite can replace it while the same statement reads it (Spark refuses to
  overwrite an unpartitioned table it is reading).
-#}

with

events as (
    select
        anonymous_id,
        user_id,
        event_at_utc,
        message_id,
        type
    from {{ ref('stg_segment__events') }}
    where
        ymd in {{ sql_string_list(owned_ymds()) }}
        and anonymous_id is not null
        and user_id is not null
),

new_links as (
    select
        anonymous_id,
        min(named_struct('at', event_at_utc, 'message_id', message_id, 'user_id', user_id))
        filter (where type = 'identify') as identify_link,
        min(named_struct('at', event_at_utc, 'message_id', message_id, 'user_id', user_id)) as any_link
    from events
    group by anonymous_id
),

{% if is_incremental() %}
known_links as (
    select
        anonymous_id,
        case
            when identify_user_id is not null
                then named_struct('at', identify_linked_at, 'message_id', identify_message_id, 'user_id', identify_user_id)
        end as identify_link,
        named_struct('at', any_linked_at, 'message_id', any_message_id, 'user_id', any_user_id) as any_link
    from {{ this }}
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
        min(identify_link) as identify_link,
        min(any_link) as any_link
    from all_links
    group by anonymous_id
),

final as (
    select
        merged.anonymous_id,
        identify_link.user_id as identify_user_id,
        identify_link.at as identify_linked_at,
        identify_link.message_id as identify_message_id,
        any_link.user_id as any_user_id,
        any_link.at as any_linked_at,
        any_link.message_id as any_message_id,
        {{ kst_ymd('identify_link.at') }} as identify_linked_ymd,
        {{ kst_ymd('any_link.at') }} as any_linked_ymd,
        'all' as map_partition
    from merged
)

select * from final
