{#- Q03: events of the "procedure" source, deduplicated and flattened for BI. -#}

with

events as (
    {{ owned_rows(ref('stg_segment__procedure_events')) }}
),

final as (
    select
        message_id,
        type,
        event,
        name,
        category,
        user_id,
        customer_id,
        event_at_kst,
        ym,
        yw,
        ywd,
        page_path,
        page_referrer,
        page_title,
        page_url,
        page_search,
        search_keyword,
        search_board_id,
        search_type,
        properties_url,
        promotion_id,
        creative,
        promotion_name,
        position,
        amplitude_session_id,
        -- Q03's integer version; a version sent as "1.1" is null here (kept as sent in staging)
        case when version rlike '^-?[0-9]{1,9}$' then cast(version as int) end as version,
        ymd
    from events
)

select * from final
