{{
    config(
        partition_by=['run_ymd'],
    )
}}

{#-
  One row per run date, written last: it depends on every loadable model (each mart and the
  traits snapshot) and on the run audit, so dbt build skips it when one of them or their tests
  failed. The loader loads a date only when this row's invocation_id equals
  segment_run_started's: a run that failed or was stopped halfway (segment_run_started new, some
  marts rewritten) is never loaded as if it had finished. tests/python/test_pipeline.py checks
  that this list holds every loadable model, so a new mart cannot be forgotten here.
-#}

-- depends_on: {{ ref('segment_run_audit') }}
-- depends_on: {{ ref('active_users_rolling') }}
-- depends_on: {{ ref('article_views_daily') }}
-- depends_on: {{ ref('button_clicks_daily') }}
-- depends_on: {{ ref('daily_active_users') }}
-- depends_on: {{ ref('device_breakdown_daily') }}
-- depends_on: {{ ref('dim_users') }}
-- depends_on: {{ ref('hospital_engagement_daily') }}
-- depends_on: {{ ref('hourly_traffic') }}
-- depends_on: {{ ref('new_vs_returning_daily') }}
-- depends_on: {{ ref('page_views_daily') }}
-- depends_on: {{ ref('procedure_log') }}
-- depends_on: {{ ref('promotion_performance_daily') }}
-- depends_on: {{ ref('retention_weekly_cohorts') }}
-- depends_on: {{ ref('search_keywords_daily') }}
-- depends_on: {{ ref('segment_log') }}
-- depends_on: {{ ref('segment_log_session') }}
-- depends_on: {{ ref('sessions_daily') }}
-- depends_on: {{ ref('traffic_sources_daily') }}
-- depends_on: {{ ref('user_traits_snapshot') }}

select
    '{{ invocation_id }}' as invocation_id,
    current_timestamp() as completed_at_utc,
    '{{ run_date() }}' as run_ymd
