{{
    config(
        partition_by=['activity_ywd'],
    )
}}

{#-
  Q12: of the users first seen in week W (cohort_ywd, the Sunday that starts it), how many were
  active in week W+n, n = 0..12. Row (W, n) depends on the activity of week W+n only, so the
  table is partitioned by that week (activity_ywd = W + 7n days): the run for D rewrites the
  weeks of D-L..D, each with the cohorts of the 12 weeks before it, and reads 13 weeks of
  first-seen keys plus one week of activity. The current week's rows grow until it ends.
  Weeks are dates, so W+n crosses New Year like any other week.
  Both sides are resolved through the run's stitching: a cohort member first seen under an
  anonymous id that now stitches to a user id counts as retained when that user is active,
  and so does activity that a final date still keeps under the anonymous id.
-#}

with

weeks as (
    select to_date(ywd) as activity_ywd
    from (
        select explode({{ sql_array(owned_ywds()) }}) as ywd
    )
),

{# First-seen dates of the cohorts: from 12 weeks before the first owned week up to D. #}
{%- set first_cohort = modules.datetime.date.fromisoformat(owned_ywds()[0]) - modules.datetime.timedelta(days=12 * 7) %}
{%- set cohort_ymds = [] %}
{%- for offset in range((run_vars()['date'] - first_cohort).days + 1) %}
    {%- do cohort_ymds.append((first_cohort + modules.datetime.timedelta(days=offset)).isoformat()) %}
{%- endfor %}

stitching as (
    select * from {{ ref('int_identity_stitching') }}
),

cohorts as (
    select
        first_seen.first_seen_ywd as cohort_ywd,
        coalesce(stitching.user_id, first_seen.user_key) as user_key
    from {{ ref('int_user_first_seen') }} as first_seen
    left join stitching on first_seen.user_key = stitching.anonymous_id
    where first_seen.first_seen_ymd in {{ sql_string_list(cohort_ymds) }}
),

cohort_sizes as (
    select
        cohort_ywd,
        count(distinct user_key) as cohort_size
    from cohorts
    group by cohort_ywd
),

{# Keys resolved like the cohorts': a final date's row may still carry an anonymous id that now stitches to a user. #}
activity as (
    select distinct
        to_date(activity.ywd) as activity_ywd,
        coalesce(stitching.user_id, activity.user_key) as user_key
    from {{ ref('int_user_daily_activity') }} as activity
    left join stitching on activity.user_key = stitching.anonymous_id
    where activity.ymd in {{ sql_string_list(window_ymds(7)) }}
),

pairs as (
    select
        cohort_sizes.cohort_ywd,
        weeks.activity_ywd,
        cast(datediff(weeks.activity_ywd, cohort_sizes.cohort_ywd) / 7 as int) as weeks_since,
        cohort_sizes.cohort_size
    from cohort_sizes
    inner join weeks
        on datediff(weeks.activity_ywd, cohort_sizes.cohort_ywd) between 0 and 12 * 7
),

retained as (
    select
        cohorts.cohort_ywd,
        activity.activity_ywd,
        count(distinct cohorts.user_key) as retained_users
    from cohorts
    inner join activity on cohorts.user_key = activity.user_key
    group by cohorts.cohort_ywd, activity.activity_ywd
),

final as (
    select
        pairs.cohort_ywd,
        pairs.weeks_since,
        pairs.cohort_size,
        coalesce(retained.retained_users, 0) as retained_users,
        coalesce(retained.retained_users, 0) / pairs.cohort_size as retention_rate,
        pairs.activity_ywd
    from pairs
    left join retained
        on
            pairs.cohort_ywd = retained.cohort_ywd
            and pairs.activity_ywd = retained.activity_ywd
)

select * from final
