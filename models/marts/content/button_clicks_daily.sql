{#- Q09: clicks per button and its position on the page (events carrying properties.button.name). -#}

with

clicks as (
    {{ owned_rows(ref('int_sessionised_events')) }}
        and nullif(trim(button_name), '') is not null
),

final as (
    select
        trim(button_name) as button_name,
        {{ not_set('button_position') }} as button_position,
        count(*) as clicks,
        count(distinct user_key) as unique_users,
        ymd
    from clicks
    group by ymd, trim(button_name), {{ not_set('button_position') }}
)

select * from final
