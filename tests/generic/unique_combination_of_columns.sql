{#-
  The grain test for multi-column keys (dbt_utils cannot be installed here): fails with one
  row per key combination that occurs more than once.
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
select
    {{ combination_of_columns | join(', ') }},
    count(*) as occurrences
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}
