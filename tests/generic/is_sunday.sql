{#- Fails on every non-null date of the column that is not a Sunday (Spark dayofweek: 1 = Sunday). -#}
{% test is_sunday(model, column_name) %}
select {{ column_name }} as failing_value
from {{ model }}
where {{ column_name }} is not null
  and dayofweek({{ column_name }}) != 1
{% endtest %}
