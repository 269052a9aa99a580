{#- Procedure-source events of the run's owned partitions, deduplicated by messageId, typed and renamed. -#}

with

events as (
    select *
    from {{ ref('base_segment__procedure_events') }}
    where {{ is_staged() }}
),

final as (
    select
        message_id,
        source_id,
        anonymous_id,
        user_id,
        previous_id,
        group_id,
        type,
        event,
        name,
        category,
        `timestamp` as event_at_utc,
        received_at,
        received_day,
        file_name,
        {{ staging_version("version") }} as version,
        context_page_path as page_path,
        context_page_referrer as page_referrer,
        context_page_title as page_title,
        context_page_url as page_url,
        context_page_search as page_search,
        properties_search_keyword as search_keyword,
        properties_search_board_id as search_board_id,
        properties_search_type as search_type,
        properties_url,
        properties_promotion_id as promotion_id,
        properties_creative as creative,
        properties_name as promotion_name,
        properties_position as position,
        traits_customer_id as customer_id,
        integrations_actions_amplitude_session_id as amplitude_session_id,
        {{ staging_kept_columns() }}
    from events
)

select * from final
