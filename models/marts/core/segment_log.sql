{#- Q01: every web/app event of the day, deduplicated and flattened for BI. -#}

with

events as (
    {{ owned_rows(ref('stg_segment__events')) }}
),

final as (
    select
        message_id,
        anonymous_id,
        user_id,
        type,
        event,
        event_at_kst,
        event_at_utc,
        received_at,
        ym,
        yw,
        ywd,
        source_id,
        platform,
        context_user_agent,
        context_ip,
        context_locale,
        context_page_url,
        context_page_path,
        context_page_referrer,
        properties_path,
        page_name,
        -- Segment's own page/screen name and category (the call's `name` / `category`), beside
        -- the company's page_name (properties.page.name)
        case when type in ('page', 'screen') then name end as call_name,
        case when type in ('page', 'screen') then category end as call_category,
        button_name,
        action_name,
        action_hospital_id,
        action_hospital_name,
        button_hospital_id,
        button_hospital_name,
        properties_hospital_id,
        properties_page_name,
        properties_route_name,
        properties_to,
        properties,
        context,
        ymd
    from events
)

select * from final
