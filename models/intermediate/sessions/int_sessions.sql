{#-
  One row per session that starts in the owned partitions (D-L..D): the shared session model
  of segment_log_session (Q02), sessions_daily (Q10), traffic_sources_daily (Q13) and
  device_breakdown_daily (Q17). The session's attributes come from its events:
    landing/exit page   the path of its first/last page view (null without page views);
    first touch         its first event's context.campaign, else the utm values of
                        properties.properties.search (as one group: never mixed);
    referrer            the landing page view's referrer (else the first event's);
    device              its first event's device class, browser and locale;
    user key            the identified key if any event has one, else the anonymous one.
  All times in the run are read up to D: next_session_start_at is null while no later session
  of the same key is known.
-#}

with

events as (
    {{ owned_rows(ref('int_sessionised_events')) }}
        and session_id is not null
),

ranked as (
    select
        *,
        row_number() over (partition by session_id order by event_at_utc, message_id) as event_rank,
        row_number() over (
            partition by session_id, is_page_view order by event_at_utc, message_id
        ) as page_view_rank,
        row_number() over (
            partition by session_id, is_page_view order by event_at_utc desc, message_id desc
        ) as page_view_rank_desc
    from events
),

sessions as (
    select
        session_id,
        session_key,
        max(anonymous_id) as anonymous_id,
        coalesce(max(case when is_identified then user_key end), max(user_key)) as user_key,
        bool_or(is_identified) as is_identified,
        min(event_at_utc) as session_start_at_utc,
        max(event_at_utc) as session_end_at_utc,
        count(*) as event_count,
        count_if(is_page_view) as page_view_count,
        max(case when event_rank = 1 then platform end) as platform,
        max(case when is_page_view and page_view_rank = 1 then page_path end) as landing_page_path,
        max(case when is_page_view and page_view_rank_desc = 1 then page_path end) as exit_page_path,
        coalesce(
            max(case when is_page_view and page_view_rank = 1 then context_page_referrer end),
            max(case when event_rank = 1 then context_page_referrer end)
        ) as landing_referrer,
        max(case when event_rank = 1 then context_campaign_source end) as campaign_source,
        max(case when event_rank = 1 then context_campaign_medium end) as campaign_medium,
        max(case when event_rank = 1 then context_campaign_name end) as campaign_name,
        max(case when event_rank = 1 then properties_nav_search end) as nav_search,
        max(case when event_rank = 1 then {{ device_class('platform', 'context_user_agent_data_mobile', 'context_user_agent') }} end)
            as device_class,
        max(case when event_rank = 1 then {{ browser_name('context_user_agent_data_brands', 'context_user_agent') }} end)
            as browser,
        max(case when event_rank = 1 then {{ not_set('context_locale') }} end) as locale,
        max(session_ymd) as ymd
    from ranked
    group by session_id, session_key
),

final as (
    select
        session_id,
        session_key,
        anonymous_id,
        user_key,
        is_identified,
        platform,
        {{ to_kst('session_start_at_utc') }} as session_start_at,
        {{ to_kst('session_end_at_utc') }} as session_end_at,
        {{ to_kst('lead(session_start_at_utc) over (partition by session_key order by session_start_at_utc)') }}
            as next_session_start_at,
        session_start_at_utc,
        {{ seconds_between('session_start_at_utc', 'session_end_at_utc') }} as duration_seconds,
        event_count,
        page_view_count,
        page_view_count = 1 and event_count = 1 as is_bounce,
        landing_page_path,
        exit_page_path,
        landing_referrer,
        {{ referrer_domain('landing_referrer') }} as referrer_domain,
        case
            when coalesce(campaign_source, campaign_medium, campaign_name) is not null then campaign_source
            else get_json_object(nav_search, '$.utm_source')
        end as utm_source,
        case
            when coalesce(campaign_source, campaign_medium, campaign_name) is not null then campaign_medium
            else get_json_object(nav_search, '$.utm_medium')
        end as utm_medium,
        case
            when coalesce(campaign_source, campaign_medium, campaign_name) is not null then campaign_name
            else get_json_object(nav_search, '$.utm_campaign')
        end as utm_campaign,
        device_class,
        browser,
        locale,
        ymd
    from sessions
    where ymd in {{ sql_string_list(owned_ymds()) }}
)

select * from final
