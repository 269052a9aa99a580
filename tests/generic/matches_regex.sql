{#- Fails on every non-null value of the column that does not match the (Java) regular expression. -#}
{% test matches_regex(model, column_name, pattern) %}
select {{ column_name }} as failing_value
from {{ model }}
where {{ column_name }} is not null
  and not regexp_like({{ column_name }}, '{{ pattern }}')
{% endtest %}
