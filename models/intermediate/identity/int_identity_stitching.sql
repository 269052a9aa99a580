{{ config(materialized='view', partition_by=none) }}

{#-
  The identity map as of the run for date D: each anonymous id with the user id it stitches to.
  Only the links that run can know count: dated by D and received by D (in the folders it
  reads, or earlier ones). Of those, the earliest identify link wins, else the earliest link of
  any kind. So a rerun of an earlier date is changed neither by the logins of later dates nor
  by links that arrived after it: the same date gives the same stitching whatever ran before.
  A link dated by D that arrives late is counted by the later runs that own D again (D+1..D+L).
-#}

with

known_by_the_run as (
    select *
    from {{ latest_state(ref('int_identity_map'), 'map_partition') }} as identity_map
    where received_day <= date'{{ run_date() }}'
),

resolved as (
    select
        anonymous_id,
        min(case when identify_linked_ymd <= '{{ run_date() }}' then {{ identity_link('identify') }} end) as identify_link,
        min(case when any_linked_ymd <= '{{ run_date() }}' then {{ identity_link('any') }} end) as any_link
    from known_by_the_run
    group by anonymous_id
),

final as (
    select
        resolved.anonymous_id,
        coalesce(resolved.identify_link.user_id, resolved.any_link.user_id) as user_id,
        coalesce(resolved.identify_link.at, resolved.any_link.at) as linked_at
    from resolved
    where resolved.any_link is not null
)

select * from final
