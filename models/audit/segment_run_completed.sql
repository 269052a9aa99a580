{{
    config(
        partition_by=['run_ymd'],
    )
}}

{#-
  One row per run date, written only when the dbt invocation that wrote the run's audit row also
  built every loadable model (each mart and the traits snapshot) and passed their tests: dbt
  build skips this model when anything it depends on failed. The loader loads a date only when
  this row's invocation_id equals the audit row's, so a run that failed or was stopped halfway
  (its audit row new, its marts partly rewritten) is never loaded as if it had finished.
  The list below is every loadable model; tests/python/test_run_completed.py checks it against
  the manifest, so a new mart cannot be forgotten here.
-#}

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
