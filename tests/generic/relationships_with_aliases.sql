{#-
  dbt's relationships test for a parent that also lists aliases of its keys: every non-null
  value of the column is the parent's key or one of the parent's aliases (an array column).
  For user keys: a final date keeps the anonymous id a visitor had before logging in, and
  dim_users lists that id in the user's anonymous_ids. Fails with one row per missing value.
-#}
{% test relationships_with_aliases(model, column_name, to, field, aliases) %}
with

child as (
    select {{ column_name }} as child_key
    from {{ model }}
),

parent_keys as (
    select {{ field }} as parent_key from {{ to }}
    union all
    select explode({{ aliases }}) as parent_key from {{ to }}
)

select distinct child.child_key as missing_key
from child
left anti join parent_keys on child.child_key = parent_keys.parent_key
where child.child_key is not null
{% endtest %}
