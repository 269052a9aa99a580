{#-
  Q13: where sessions come from, by first touch (int_sessions): the first event's campaign
  (context.campaign) or, failing that, the utm values of properties.properties.search;
  `(none)` where a value is missing. referrer_domain is the host of the landing page's
  referrer, `(direct)` when there is none.
-#}

with

sessions as (
    {{ owned_rows(ref('int_sessions')) }}
),

final as (
    select
        coalesce(nullif(trim(utm_source), ''), '(none)') as utm_source,
        coalesce(nullif(trim(utm_medium), ''), '(none)') as utm_medium,
        coalesce(nullif(trim(utm_campaign), ''), '(none)') as utm_campaign,
        referrer_domain,
        count(*) as sessions,
        count(distinct user_key) as users,
        ymd
    from sessions
    group by
        ymd,
        coalesce(nullif(trim(utm_source), ''), '(none)'),
        coalesce(nullif(trim(utm_medium), ''), '(none)'),
        coalesce(nullif(trim(utm_campaign), ''), '(none)'),
        referrer_domain
)

select * from final
