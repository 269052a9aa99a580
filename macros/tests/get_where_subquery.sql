{#-
  dbt's test `where` config, with one addition: `where: owned_partitions` restricts a test to
  the partitions this run rewrites (ymd in D-L..D), computed from the validated run vars at
  compile time. (Writing the filter with var('date') in dbt_project.yml fails when --vars
  gives an unquoted date, which YAML parses into a date object.)
-#}
{% macro spark__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where == 'owned_partitions' -%}
        {%- set where = 'ymd in ' ~ sql_string_list(owned_ymds()) -%}
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
