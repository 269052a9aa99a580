{#-
  Q04: active users by platform and login state. A user counts as identified when the user
  key is a user id (the event's own, or its anonymous id stitched to one as of the run).
  A user active on web and app counts once on each platform.
-#}

with

events as (
    {{ owned_rows(ref('int_sessionised_events')) }}
        and user_key is not null
),

final as (
    select
        platform,
        is_identified,
        count(distinct user_key) as users,
        count(*) as events,
        ymd
    from events
    group by ymd, platform, is_identified
)

select * from final
