{#-
  Q08: engagement per hospital. An event names a hospital through button_hospital_id,
  action_hospital_id or properties_hospital_id; an event naming one hospital twice counts once.
    button_clicks  events naming it through the clicked button's hospital;
    actions        events naming it through the performed action's hospital;
    page_views     page views (page/screen) naming it through any of the three;
    unique_users   distinct user keys of any event naming it;
    hospital_name  the name sent with the day's latest event that carried one (ties: the
                   greatest message_id, then the button's name over the action's).
-#}

with

events as (
    {{ owned_rows(ref('int_sessionised_events')) }}
),

mentions as (
    select
        events.message_id,
        events.user_key,
        events.is_page_view,
        events.event_at_utc,
        events.ymd,
        mention.via,
        trim(mention.hospital_id) as hospital_id,
        nullif(trim(mention.hospital_name), '') as hospital_name
    from events
        lateral view explode(array(
            named_struct('via', 'button', 'hospital_id', button_hospital_id, 'hospital_name', button_hospital_name),
            named_struct('via', 'action', 'hospital_id', action_hospital_id, 'hospital_name', action_hospital_name),
            named_struct('via', 'properties', 'hospital_id', properties_hospital_id, 'hospital_name', cast(null as string))
        )) as mention
    where nullif(trim(mention.hospital_id), '') is not null
),

final as (
    select
        hospital_id,
        -- ties at one instant: the greatest message_id, then the button's name over the action's
        max_by(hospital_name, case when hospital_name is not null then struct(event_at_utc, message_id, via) end)
            as hospital_name,
        count(distinct case when via = 'button' then message_id end) as button_clicks,
        count(distinct case when via = 'action' then message_id end) as actions,
        count(distinct case when is_page_view then message_id end) as page_views,
        count(distinct user_key) as unique_users,
        ymd
    from mentions
    group by ymd, hospital_id
)

select * from final
