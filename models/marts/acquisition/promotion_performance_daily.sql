{#-
  Q15: impressions (event `Promotion Viewed`) and clicks (`Promotion Clicked`) of each
  promotion banner, from the procedure source; ctr = clicks / impressions, null when there
  were no impressions. promotion_name is the name sent with the day's latest event (ties: the greatest message_id).
-#}

with

promotion_events as (
    {{ owned_rows(ref('stg_segment__procedure_events')) }}
        and event in ('Promotion Viewed', 'Promotion Clicked')
),

final as (
    select
        {{ not_set('promotion_id') }} as promotion_id,
        {{ not_set('creative') }} as creative,
        {{ not_set('position') }} as position,
        -- ties at one instant: the greatest message_id
        max_by(promotion_name, case when promotion_name is not null then struct(event_at_utc, message_id) end)
            as promotion_name,
        count_if(event = 'Promotion Viewed') as impressions,
        count_if(event = 'Promotion Clicked') as clicks,
        count_if(event = 'Promotion Clicked') / nullif(count_if(event = 'Promotion Viewed'), 0) as ctr,
        ymd
    from promotion_events
    group by ymd, {{ not_set('promotion_id') }}, {{ not_set('creative') }}, {{ not_set('position') }}
)

select * from final
