{{ config(materialized='view') }}

{#-
  The identity map as of the run's date D: each anonymous id with the user id it stitches to.
  The earliest identify link wins when it happened by D; otherwise the earliest link of any
  kind by D. Links dated after D are ignored, so a rerun of an earlier date is not changed by
  the logins of later dates (a link dated by D that arrived late still counts).
-#}

with

identity_map as (
    select * from {{ ref('int_identity_map') }}
),

final as (
    select
        anonymous_id,
        case
            when identify_linked_ymd <= '{{ run_date() }}' then identify_user_id
            else any_user_id
        end as user_id,
        case
            when identify_linked_ymd <= '{{ run_date() }}' then identify_linked_at
            else any_linked_at
        end as linked_at
    from identity_map
    where any_linked_ymd <= '{{ run_date() }}'
)

select * from final
