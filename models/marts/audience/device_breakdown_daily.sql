{#-
  Q17: sessions and users per device class, browser and locale, each session classified by its
  first event (macros/events/event_fields.sql: device_class, browser_name). So the sessions of
  a date add up to sessions_daily's.
-#}

with

sessions as (
    {{ owned_rows(ref('int_sessions')) }}
),

final as (
    select
        device_class,
        browser,
        locale,
        count(distinct user_key) as users,
        count(*) as sessions,
        ymd
    from sessions
    group by ymd, device_class, browser, locale
)

select * from final
