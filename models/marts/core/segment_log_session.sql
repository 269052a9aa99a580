{#- Q02: the sessions of the day (see int_sessions for how a session is formed). -#}

with

sessions as (
    {{ owned_rows(ref('int_sessions')) }}
),

final as (
    select
        session_id,
        anonymous_id,
        user_key,
        session_start_at,
        session_end_at,
        next_session_start_at,
        duration_seconds,
        event_count,
        page_view_count,
        landing_page_path,
        exit_page_path,
        platform,
        ymd
    from sessions
)

select * from final
