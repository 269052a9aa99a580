{#-
  The `version` column of a staging model. Staging keeps Segment's version as sent, as text
  ("1.1" and 2 both stay). A table built before that holds `version` as an integer, and Spark
  cannot change a Parquet column's type in place: such a table keeps getting an integer
  (a version that is no integer, such as "1.1", is null there) until it is dropped and its
  dates rerun (docs/reading-raw-logs.md "What the reader keeps").
-#}
{% macro staging_version(column) %}
    {%- set existing = [] -%}
    {#- (a unit test has no table behind `this`: it gets the text column) -#}
    {%- set relation = load_relation(this) if execute and this is not none and is_incremental() else none -%}
    {%- if relation is not none -%}
        {%- for col in adapter.get_columns_in_relation(relation) if col.name == 'version' -%}
            {%- do existing.append(col.dtype | lower) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if existing and existing[0] in ('int', 'integer', 'bigint') -%}
        case when {{ column }} rlike '^-?[0-9]{1,9}$' then cast({{ column }} as int) end
    {%- else -%}
        {{ column }}
    {%- endif -%}
{% endmacro %}
