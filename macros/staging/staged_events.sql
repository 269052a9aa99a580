{#-
  What staging keeps of a base model's rows: the first copy of each messageId (earliest
  receivedAt) in this run's owned partitions. The run audit counts `events_staged` with the
  same rule, so the two cannot drift apart.
-#}
{% macro is_staged() -%}
    duplicate_rank = 1 and window_status = 'owned'
{%- endmacro %}

{#-
  The columns every staging model ends with: Segment's nested objects as sent (so a later
  model can reach a field the flat columns do not name), the fields set aside for a type
  clash, and the KST calendar keys of the event's timestamp.
-#}
{% macro staging_kept_columns() -%}
    context,
        properties,
        traits,
        integrations,
        field_clashes,
        {{ kst_calendar_columns('`timestamp`') }}
{%- endmacro %}
