{#-
  Every web/app event of the owned partitions (D-L..D) with its user key and its session.

  User key (docs/queries.md): the event's userId, else the user id its anonymousId stitches to as
  of D (int_identity_stitching), else the anonymousId. Events with neither id have no user
  key and no session (session_id null); the audit counts them (unsessionised_events).

  Sessions: consecutive events of one session key (anonymousId, else userId) with no gap
  over `session_inactivity_minutes` (a gap of exactly that long stays in the session). Events
  are read from one day before the owned partitions, so the first events of D-L that continue
  a session begun on D-L-1 keep that session's id. A session takes the business date of its
  first event and is not cut at KST midnight; the run for D+L, which owns D, sees the events
  of D+1..D+L and completes the sessions of D. session_id = md5(session key | start instant),
  so the same events give the same id on every rerun. Known limit: a session longer than the
  one-day look-back (24 hours of activity without a 30-minute pause) is split.
-#}

{%- set gap_micros = run_vars()['session_inactivity_minutes'] * 60 * 1000000 %}

with

events as (
    select *
    from {{ ref('stg_segment__events') }}
    where ymd in {{ sql_string_list(window_ymds(1)) }}
),

stitching as (
    select * from {{ ref('int_identity_stitching') }}
),

keyed as (
    select
        events.*,
        coalesce(events.anonymous_id, events.user_id) as session_key,
        coalesce(events.user_id, stitching.user_id, events.anonymous_id) as user_key,
        coalesce(events.user_id, stitching.user_id) is not null as is_identified,
        {{ is_page_view('events.type') }} as is_page_view,
        coalesce(events.context_page_path, events.properties_path, events.properties_nav_path) as page_path
    from events
    left join stitching on events.anonymous_id = stitching.anonymous_id
),

gaps as (
    select
        *,
        case
            when session_key is null then null
            when lag(event_at_utc) over by_key is null then 1
            when unix_micros(event_at_utc) - unix_micros(lag(event_at_utc) over by_key) > {{ gap_micros }} then 1
            else 0
        end as starts_session
    from keyed
    window by_key as (partition by session_key order by event_at_utc, message_id)
),

numbered as (
    select
        *,
        sum(starts_session) over (
            partition by session_key order by event_at_utc, message_id
            rows between unbounded preceding and current row
        ) as session_number
    from gaps
),

sessioned as (
    select
        *,
        min(event_at_utc) over (partition by session_key, session_number) as session_start_at_utc,
        lead(event_at_utc) over (
            partition by session_key, session_number order by event_at_utc, message_id
        ) as next_in_session_at_utc
    from numbered
),

final as (
    select
        message_id,
        platform,
        type,
        event,
        anonymous_id,
        user_id,
        user_key,
        is_identified,
        session_key,
        case
            when session_key is not null
                then md5(concat(session_key, '|', date_format(session_start_at_utc, 'yyyy-MM-dd HH:mm:ss.SSSSSS')))
        end as session_id,
        case when session_key is not null then {{ kst_ymd('session_start_at_utc') }} end as session_ymd,
        event_at_utc,
        event_at_kst,
        is_page_view,
        {#- Time to the next event of the same session: null for a session's last event. -#}
        case
            when session_key is not null then {{ seconds_between('event_at_utc', 'next_in_session_at_utc') }}
        end as seconds_to_next_event,
        page_name,
        page_path,
        context_page_url,
        context_page_referrer,
        context_page_search,
        context_campaign_source,
        context_campaign_medium,
        context_campaign_name,
        properties_nav_search,
        context_user_agent,
        context_user_agent_data_mobile,
        context_user_agent_data_brands,
        context_locale,
        button_name,
        button_position,
        button_hospital_id,
        button_hospital_name,
        action_name,
        action_hospital_id,
        action_hospital_name,
        properties_hospital_id,
        customer_id,
        traits,
        ywd,
        ymd
    from sessioned
    where ymd in {{ sql_string_list(owned_ymds()) }}
)

select * from final
