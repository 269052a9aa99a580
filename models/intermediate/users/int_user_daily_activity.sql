{#-
  One row per user key and business date: the compact history that WAU/MAU (Q05), new vs
  returning (Q11), retention (Q12) and dim_users (Q18) read instead of scanning segment_log.
  A run writes its owned partitions; a date's row keeps the user key as stitched by the run
  that last wrote the date.
-#}

with

events as (
    {{ owned_rows(ref('int_sessionised_events')) }}
        and user_key is not null
),

final as (
    select
        user_key,
        bool_or(is_identified) as is_identified,
        max(case when is_identified then user_key end) as user_id,
        sort_array(collect_set(anonymous_id)) as anonymous_ids,
        sort_array(collect_set(platform)) as platforms,
        min(event_at_utc) as first_event_at_utc,
        max(event_at_utc) as last_event_at_utc,
        count(*) as events,
        {#- The traits of the day's last identify call that sent any (customer id and the raw object);
            calls at one instant: the greatest message_id, so both columns come from the same call. -#}
        max_by(customer_id, case when type = 'identify' and traits is not null then struct(event_at_utc, message_id) end)
            as customer_id,
        max_by(traits, case when type = 'identify' and traits is not null then struct(event_at_utc, message_id) end)
            as traits,
        max(case when type = 'identify' and traits is not null then event_at_utc end) as traits_at_utc,
        max(ywd) as ywd,
        ymd
    from events
    group by ymd, user_key
)

select * from final
