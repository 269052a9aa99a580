{#-
  Web and app events of the run's owned partitions (D-L..D): one row per messageId (the
  earliest receivedAt of its copies), typed, renamed, with the KST calendar keys.
  insert_overwrite rewrites exactly those partitions; every other date is left untouched.
-#}

with

events as (
    select *
    from {{ ref('base_segment__web_app_events') }}
    where {{ is_staged() }}
),

final as (
    select
        message_id,
        source_key as platform,
        source_id,
        anonymous_id,
        user_id,
        previous_id,
        group_id,
        type,
        event,
        name,
        category,
        channel,
        `timestamp` as event_at_utc,
        original_timestamp as original_event_at_utc,
        sent_at,
        received_at,
        received_day,
        file_name,
        project_id,
        {{ staging_version("version") }} as version,
        context_campaign_source,
        context_campaign_medium,
        context_campaign_name,
        context_campaign_content,
        context_campaign_term,
        context_ip,
        context_library_name,
        context_library_version,
        context_locale,
        context_page_path,
        context_page_referrer,
        context_page_search,
        context_page_title,
        context_page_url,
        context_user_agent,
        context_user_agent_data_brands,
        context_user_agent_data_mobile,
        context_user_agent_data_platform,
        case
            when left(ltrim(properties_page), 1) = '{' then get_json_object(properties_page, '$.name')
            else properties_page
        end as page_name,
        properties_action_name as action_name,
        element_at(properties_action_hospital, 1) as action_hospital_id,
        element_at(properties_action_hospital, 2) as action_hospital_name,
        properties_button_name as button_name,
        properties_button_position as button_position,
        element_at(properties_button_hospital, 1) as button_hospital_id,
        element_at(properties_button_hospital, 2) as button_hospital_name,
        properties_button_link as button_link,
        properties_button_region as button_region,
        properties_button_selected_item as button_selected_item,
        properties_category,
        properties_name,
        properties_path,
        properties_referrer,
        properties_search,
        properties_title,
        properties_url,
        properties_properties_hospital_id as properties_hospital_id,
        properties_properties_name as properties_nav_name,
        properties_properties_page_name as properties_page_name,
        properties_properties_path as properties_nav_path,
        properties_properties_route_name as properties_route_name,
        properties_properties_to as properties_to,
        properties_properties_url as properties_nav_url,
        properties_properties_search as properties_nav_search,
        traits_customer_id as customer_id,
        {{ staging_kept_columns() }}
    from events
)

select * from final
