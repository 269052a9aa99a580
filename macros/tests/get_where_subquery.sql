{#-
  dbt's test `where` config, with one addition: `where: owned_partitions` restricts a test to
  the partitions this run rewrites (ymd in D-L..D), computed from the validated run vars at
  compile time. `owned_partitions:first_seen_ymd` names another date column;
  `owned_weeks:activity_ywd` keeps the weeks (their Sundays) of D-L..D; `owned_run:run_ymd`
  keeps the run's own row (a column added later is null in older runs' rows); `owned_folders[:column]`
  keeps the rows of the received days the run reads (D-L-1..D: the parsed layer keeps older ones);
  `latest_state:column` keeps a state table's latest version (macros/state/state_versions.sql); `all_rows` tests
  the whole table (for tables not partitioned by date). (Writing the filter with var('date') in dbt_project.yml fails when --vars
  gives an unquoted date, which YAML parses into a date object.)
-#}
{% macro spark__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where is string and where.startswith('latest_state:') -%}
        {%- do return(latest_state(relation, where.partition(':')[2]) ~ ' dbt_subquery') -%}
    {%- elif where == 'all_rows' -%}
        {#- A test-level `where: null` cannot undo a folder's where (None means "not set"). -#}
        {%- set where = none -%}
    {%- elif where is string and where.startswith('owned_') -%}
        {%- set kind, _, column = where.partition(':') -%}
        {%- if kind == 'owned_partitions' -%}
            {%- set where = (column or 'ymd') ~ ' in ' ~ sql_string_list(owned_ymds()) -%}
        {%- elif kind == 'owned_folders' -%}
            {%- set days = [] -%}
            {%- for day in received_days() -%}{%- do days.append(day.isoformat()) -%}{%- endfor -%}
            {%- set where = (column or 'received_day') ~ ' in ' ~ sql_string_list(days) -%}
        {%- elif kind == 'owned_run' and column -%}
            {%- set where = column ~ " = '" ~ run_date() ~ "'" -%}
        {%- elif kind == 'owned_weeks' and column -%}
            {%- set where = 'cast(' ~ column ~ ' as string) in ' ~ sql_string_list(owned_ywds()) -%}
        {%- else -%}
            {{ exceptions.raise_compiler_error("Unknown test where '" ~ where ~ "': use owned_partitions[:column], owned_folders[:column], owned_weeks:column, owned_run:column or all_rows") }}
        {%- endif -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
