{#-
  One identity link (an event that carried both anonymousId and userId) as a struct that sorts
  the way stitching ranks links: earliest first, ties broken by message id. `kind` is the
  column prefix in int_identity_map: 'identify' or 'any'. Null when the row has no such link.
-#}
{% macro identity_link(kind) %}
    case
        when {{ kind }}_user_id is not null
            then named_struct('at', {{ kind }}_linked_at, 'message_id', {{ kind }}_message_id, 'user_id', {{ kind }}_user_id)
    end
{%- endmacro %}
