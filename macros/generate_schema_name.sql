{#-
  Schemas by layer, the same in every target: staging models land in `staging`,
  marts in `marts`, audit tables in `audit` (dbt's default would prefix the target schema,
  giving names such as `analytics_marts`; BI and the loader read plain layer names).
  Set SEGLOG_SCHEMA_PREFIX (e.g. `ci_`) to keep a run's tables apart from everyone else's.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set prefix = env_var('SEGLOG_SCHEMA_PREFIX', '') -%}
    {%- if custom_schema_name is none -%}
        {{ prefix }}{{ target.schema | trim }}
    {%- else -%}
        {{ prefix }}{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
