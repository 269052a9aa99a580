{#-
  The guard against a day that has not landed. Every source must have readable files in the two
  folders that hold most of business day D: D-1 (from 15:00 UTC) and D (until 15:00 UTC).
  The glob that reads the raw logs fails only when it matches nothing at all, so without this
  a missing source or day would silently rewrite the owned partitions with part of the data.

  Building this table fails (Spark raise_error) when a folder is missing, and everything
  downstream of it is skipped: the previous partitions stay exactly as they were. Older
  folders (D-L-1..D-2) may be missing (the start of history).
-#}
{%- set days = utc_days_of(run_date()) -%}

with

landed as (
    select
        source_key,
        received_day,
        count(*) as listed_files,
        count_if(file_status in ('read', 'truncated', 'corrupt')) as files
    from {{ ref('base_segment__files') }}
    group by source_key, received_day
),

sources as (
    select explode({{ sql_array(run_vars()['segment_sources'].keys() | list) }}) as source_key
),

days as (
    select explode(array(
        {%- for day in days %}date '{{ day.isoformat() }}'{{ ', ' if not loop.last }}{%- endfor -%}
    )) as received_day
),

final as (
    select
        sources.source_key,
        days.received_day,
        coalesce(landed.files, 0) as files,
        case
            when landed.files > 0 then true
            when landed.listed_files > 0
                then raise_error(concat(
                        'none of the ', cast(landed.listed_files as string), ' files of source ', sources.source_key,
                        ' in the folder of received day ', cast(days.received_day as string),
                        ' could be read (not gzip or corrupt): ask for a redelivery of the folder'
                    ))
            else raise_error(concat(
                    'no file has landed for source ', sources.source_key,
                    ' in the folder of received day ', cast(days.received_day as string),
                    ': wait for the delivery, or check the vars segment_root and segment_sources'
                ))
        end as landed
    from sources
    cross join days
    left join landed
        on
            sources.source_key = landed.source_key
            and days.received_day = landed.received_day
)

select * from final
