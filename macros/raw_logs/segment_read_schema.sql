{#-
  The typed read of the raw Segment logs, generated from the source YAML
  (models/staging/segment/_segment__sources.yml), its single source of truth.

  A declared column is a top-level field (`messageId`) or a dotted path into an object
  (`context.page.path`). An object with declared children is read as its untouched JSON
  text at the top level and its children are parsed from that text, so the models get both
  typed fields and the original `context` / `properties` text. Only declared fields are
  parsed; nothing is inferred.
-#}

{#- camelCase / dotted / spaced names to snake_case column names: context.userAgentData.mobile -> context_user_agent_data_mobile -#}
{% macro segment_snake_case(name) -%}
    {{- modules.re.sub('[^a-z0-9]+', '_', modules.re.sub('([a-z0-9])([A-Z])', '\\1_\\2', name).lower()).strip('_') -}}
{%- endmacro %}

{#- The declared columns of a table of the `segment` source, in YAML order: [(name, data_type), …]. -#}
{% macro segment_source_columns(table_name) %}
    {%- set found = [] -%}
    {%- if execute -%}
        {%- for node in graph.sources.values() if node.source_name == 'segment' and node.name == table_name -%}
            {%- for col in node.columns.values() -%}
                {%- if not col.data_type -%}
                    {{ exceptions.raise_compiler_error("source segment." ~ table_name ~ " column " ~ col.name ~ " has no data_type: every raw column needs its Spark type") }}
                {%- endif -%}
                {%- do found.append((col.name, col.data_type)) -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- if found | length == 0 -%}
            {{ exceptions.raise_compiler_error("source segment." ~ table_name ~ " declares no columns") }}
        {%- endif -%}
    {%- else -%}
        {#- Parse time: the graph is not built yet; a stand-in keeps the SQL renderable. -#}
        {%- do found.append(('messageId', 'string')) -%}
    {%- endif -%}
    {{ return(found) }}
{% endmacro %}

{#- Top-level names that have declared children (read as JSON text, parsed a second time). -#}
{% macro _segment_object_roots(columns) %}
    {%- set roots = [] -%}
    {%- for name, _ in columns if '.' in name and name.split('.')[0] not in roots -%}
        {%- do roots.append(name.split('.')[0]) -%}
    {%- endfor -%}
    {{ return(roots) }}
{% endmacro %}

{#- DDL of a struct's fields from [(path parts, type)], grouping by the first part, in order. -#}
{% macro _segment_struct_fields(paths, sep) %}
    {%- set order = [] -%}
    {%- set groups = {} -%}
    {%- for parts, dtype in paths -%}
        {%- if parts[0] not in groups -%}
            {%- do order.append(parts[0]) -%}
            {%- do groups.update({parts[0]: []}) -%}
        {%- endif -%}
        {%- do groups[parts[0]].append((parts[1:], dtype)) -%}
    {%- endfor -%}
    {%- set fields = [] -%}
    {%- for key in order -%}
        {%- set members = groups[key] -%}
        {%- if members | length == 1 and members[0][0] | length == 0 -%}
            {%- do fields.append('`' ~ key ~ '`' ~ sep ~ members[0][1]) -%}
        {%- else -%}
            {%- do fields.append('`' ~ key ~ '`' ~ sep ~ 'struct<' ~ _segment_struct_fields(members, ':') ~ '>') -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(fields | join(', ')) }}
{% endmacro %}

{#- The from_json schema of a line: top-level fields, objects as text, and _corrupt_record. -#}
{% macro segment_line_schema(table_name) %}
    {%- set columns = segment_source_columns(table_name) -%}
    {%- set roots = _segment_object_roots(columns) -%}
    {%- set fields = [] -%}
    {%- set seen = [] -%}
    {%- for name, dtype in columns if '.' not in name -%}
        {%- do fields.append('`' ~ name ~ '` ' ~ ('string' if name in roots else dtype)) -%}
        {%- do seen.append(name) -%}
    {%- endfor -%}
    {%- for root in roots if root not in seen -%}
        {%- do fields.append('`' ~ root ~ '` string') -%}
    {%- endfor -%}
    {%- do fields.append('`_corrupt_record` string') -%}
    {{ return(fields | join(', ')) }}
{% endmacro %}

{#- The from_json schema of one object root (e.g. context), from its dotted children, plus _corrupt_record. -#}
{% macro segment_object_schema(table_name, root) %}
    {%- set paths = [] -%}
    {%- for name, dtype in segment_source_columns(table_name) if name.startswith(root ~ '.') -%}
        {%- do paths.append((name.split('.')[1:], dtype)) -%}
    {%- endfor -%}
    {#- _corrupt_record: set when a declared field inside the object has the wrong type. -#}
    {{ return(_segment_struct_fields(paths, ' ') ~ ', `_corrupt_record` string') }}
{% endmacro %}

{#- The id fields of Segment's messages: an object or array there quarantines the line; a number is
    kept as its decimal text (Segment's libraries send numeric user ids) and counted. -#}
{% macro segment_id_fields() %}{{ return(['messageId', 'userId', 'anonymousId', 'previousId', 'groupId']) }}{% endmacro %}

{#- Top-level columns declared with meta.any_json_value: any JSON value is kept as its text, never a
    clash (version: Segment sends "1.1" on some pages and 2 on others). -#}
{% macro segment_any_value_columns(table_name) %}
    {%- set found = [] -%}
    {%- if execute -%}
        {%- for node in graph.sources.values() if node.source_name == 'segment' and node.name == table_name -%}
            {%- for col in node.columns.values() if (col.meta or {}).get('any_json_value') -%}
                {%- do found.append(col.name) -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(found) }}
{% endmacro %}

{#- The JSON path of `parts` for get_json_object, every key bracketed ($['a']['b c']): keys may hold
    spaces. Given as a double-quoted SQL string (it holds single quotes). -#}
{% macro _segment_json_path(parts) %}{{ return("$['" ~ (parts | join("']['")) ~ "']") }}{% endmacro %}

{#- A struct field access: base.`a`.`b`. -#}
{% macro _segment_field(base, parts) %}{{ return(base ~ '.`' ~ (parts | join('`.`')) ~ '`') }}{% endmacro %}

{#-
  Select expressions that parse `line_column` and flatten every declared column to a
  snake_case column, for use in a query over the raw lines:
    from_json once for the line, once more for each object root's text.
  A declared field whose value has another type costs that field, not the line. Spark's
  reader already nulls such a value (partial results, spark.sql.json.enablePartialResults,
  on by default in 3.5) and sets the struct's _corrupt_record; which field clashed is looked
  for only on those lines. Three kinds of clash, each recorded as {field, outcome}:
    - a top-level field declared `string` (messageId, event, name, …) given a number, boolean,
      object or array: Spark would keep its JSON text silently, so it is nulled here
      (segment_json_kind tells the kind, on the rare lines that need it); an id field (segment_id_fields) given a number keeps
      its decimal text (outcome kept_as_text); `type` keeps its text (unknown_type decides);
    - an object root (context, properties, …) that is not an object: its text column is nulled;
    - any other declared field or declared object (context.userAgentData.mobile, properties.action)
      present with another type: Spark nulled it. A nested field declared `string` takes any
      JSON value as its text and never clashes; neither does a column with meta.any_json_value.
  Returns {'line': [the `_line` struct], 'top': [the `_top` map of a line Spark flagged],
           'objects': [one `_obj_<root>` struct per object root], 'kinds': [`_looks` and the
           `_probe_<kind>` structs of the top-level strings (segment_json_kind)], 'flat': [one expression per declared column, clashes nulled], 'names': [their names],
           'clashes': the array<struct<field, outcome>> expression, 'suspect': when to build it,
           'invalid_id': true when an id field holds an object or array,
           'present': {top-level name: true when the line carries a non-null value for it (on a
                       flagged line; for telling missing_timestamp from invalid_timestamp)}}.
-#}
{% macro segment_parse_columns(table_name, line_column) %}
    {%- set columns = segment_source_columns(table_name) -%}
    {%- set roots = _segment_object_roots(columns) -%}
    {%- set any_value = segment_any_value_columns(table_name) -%}
    {%- set line_flagged = "_line._corrupt_record is not null" -%}
    {%- set parsed = ["from_json(" ~ line_column ~ ", '" ~ segment_line_schema(table_name) ~ "') as _line"] -%}
    {%- set top = ["case when " ~ line_flagged ~ " then from_json(" ~ line_column ~ ", 'map<string,string>') end as _top"] -%}
    {%- set objects = [] -%}
    {%- for root in roots -%}
        {%- do objects.append("from_json(_line.`" ~ root ~ "`, '" ~ segment_object_schema(table_name, root) ~ "') as _obj_" ~ segment_snake_case(root)) -%}
    {%- endfor -%}
    {#- a root whose value is not an object: its own parse is flagged and its text is no JSON object -#}
    {%- set root_clash = {} -%}
    {%- for root in roots -%}
        {%- do root_clash.update({root: "(_obj_" ~ segment_snake_case(root) ~ "._corrupt_record is not null and from_json(_line.`"
                                 ~ root ~ "`, 'map<string,string>') is null)"}) -%}
    {%- endfor -%}
    {%- set strings = [] -%}
    {%- for name, dtype in columns if '.' not in name and name not in roots and dtype == 'string' and name not in any_value and name != 'type' -%}
        {%- do strings.append(name) -%}
    {%- endfor -%}
    {#- the rare line whose top-level string field looks like another JSON kind: parsed once more
        per kind, all those fields at once, to tell 12345 from "12345" (segment_json_kind) -#}
    {%- set looks = [] -%}
    {%- for name in strings -%}{%- do looks.append(segment_json_look("_line.`" ~ name ~ "`")) -%}{%- endfor -%}
    {%- set looks_expr = "coalesce(" ~ (looks | join(' or ') or 'false') ~ ", false)" -%}
    {%- set kinds = [looks_expr ~ " as _looks"] -%}
    {%- for kind, json_type in segment_json_kinds().items() -%}
        {%- set fields = [] -%}
        {%- for name in strings -%}{%- do fields.append('`' ~ name ~ '`: ' ~ json_type) -%}{%- endfor -%}
        {%- do kinds.append("case when " ~ looks_expr ~ " then from_json(" ~ line_column ~ ", 'struct<" ~ (fields | join(', '))
                            ~ ">') end as _probe_" ~ kind) -%}
    {%- endfor -%}
    {%- set ids = segment_id_fields() -%}
    {%- set clashes = [] -%}
    {%- set flat = [] -%}
    {%- for root in roots -%}
        {%- do flat.append("case when not " ~ root_clash[root] ~ " then _line.`" ~ root ~ "` end as " ~ segment_snake_case(root)) -%}
        {%- do clashes.append("case when " ~ root_clash[root] ~ " then named_struct('field', '" ~ root ~ "', 'outcome', 'nulled') end") -%}
    {%- endfor -%}
    {%- for name, dtype in columns if '.' not in name and name not in roots -%}
        {%- set value = "_line.`" ~ name ~ "`" -%}
        {%- if name in strings -%}
            {%- set kind = "(" ~ segment_json_kind(value, name) ~ ")" -%}
            {%- if name in ids -%}
                {%- do flat.append("case when not _looks or " ~ kind ~ " is null or " ~ kind ~ " = 'number' then " ~ value ~ " end as " ~ segment_snake_case(name)) -%}
                {%- do clashes.append("case when " ~ kind ~ " = 'number' then named_struct('field', '" ~ name ~ "', 'outcome', 'kept_as_text') when "
                                      ~ kind ~ " is not null then named_struct('field', '" ~ name ~ "', 'outcome', 'nulled') end") -%}
            {%- else -%}
                {%- do flat.append("case when not _looks or " ~ kind ~ " is null then " ~ value ~ " end as " ~ segment_snake_case(name)) -%}
                {%- do clashes.append("case when " ~ kind ~ " is not null then named_struct('field', '" ~ name ~ "', 'outcome', 'nulled') end") -%}
            {%- endif -%}
        {%- else -%}
            {%- do flat.append(value ~ " as " ~ segment_snake_case(name)) -%}
            {%- if dtype != 'string' -%}
                {%- do clashes.append("case when " ~ line_flagged ~ " and " ~ value ~ " is null and _top['" ~ name
                                      ~ "'] is not null then named_struct('field', '" ~ name ~ "', 'outcome', 'nulled') end") -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {#- nested: every declared path and every object on the way to one, shallowest clash only -#}
    {%- for root in roots -%}
        {%- set obj = "_obj_" ~ segment_snake_case(root) -%}
        {%- set types = {} -%}
        {%- set order = [] -%}
        {%- for name, dtype in columns if name.startswith(root ~ '.') -%}
            {%- set parts = name.split('.')[1:] -%}
            {%- do flat.append(_segment_field(obj, parts) ~ " as " ~ segment_snake_case(name)) -%}
            {%- for i in range(1, parts | length) -%}
                {%- set prefix = parts[:i] | join('.') -%}
                {%- if prefix not in types -%}{%- do types.update({prefix: 'object'}) -%}{%- do order.append(prefix) -%}{%- endif -%}
            {%- endfor -%}
            {%- do types.update({parts | join('.'): dtype}) -%}{%- do order.append(parts | join('.')) -%}
        {%- endfor -%}
        {%- for path in order if types[path] != 'string' -%}
            {%- set parts = path.split('.') -%}
            {%- set parent = (_segment_field(obj, parts[:-1]) ~ " is not null") if parts | length > 1 else ("not " ~ root_clash[root]) -%}
            {%- do clashes.append("case when " ~ obj ~ "._corrupt_record is not null and " ~ parent ~ " and " ~ _segment_field(obj, parts)
                                  ~ " is null and get_json_object(_line.`" ~ root ~ "`, \"" ~ _segment_json_path(parts) ~ "\") is not null "
                                  ~ "then named_struct('field', '" ~ root ~ "." ~ path ~ "', 'outcome', 'nulled') end") -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set flags = [line_flagged] -%}
    {%- for root in roots -%}{%- do flags.append("_obj_" ~ segment_snake_case(root) ~ "._corrupt_record is not null") -%}{%- endfor -%}
    {%- do flags.append("_looks") -%}
    {%- set invalid = [] -%}
    {%- for name in ids if name in strings -%}{%- do invalid.append(segment_json_kind("_line.`" ~ name ~ "`", name) ~ " in ('object', 'array')") -%}{%- endfor -%}
    {%- set present = {} -%}
    {%- for name, dtype in columns if '.' not in name -%}
        {%- do present.update({name: "(_line.`" ~ name ~ "` is not null or _top['" ~ name ~ "'] is not null)"}) -%}
    {%- endfor -%}
    {%- set names = [] -%}
    {%- for expression in flat -%}{%- do names.append(expression.split(' as ')[-1]) -%}{%- endfor -%}
    {{ return({'line': parsed, 'top': top, 'objects': objects, 'kinds': kinds, 'flat': flat, 'names': names,
               'clashes': "filter(array(\n            " ~ (clashes | join(',\n            ')) ~ "\n        ), c -> c is not null)",
               'suspect': flags | join(' or '), 'invalid_id': ('(_looks and (' ~ (invalid | join(' or ')) ~ '))') if invalid else 'false',
               'present': present}) }}
{% endmacro %}

{#-
  A top-level field declared `string` that holds a number, boolean, object or array is given by
  Spark's reader as that value's JSON text (123 -> '123'), the same text a JSON string "123"
  gives. So a value that LOOKS like another kind (a whole JSON number, true/false, a leading {
  or [: a narrow look, a UUID or a name never matches) marks its line (`_looks`), and only such
  lines are parsed once more per kind (`_probe_number`, …: every such field typed as that kind
  at once, partial results keeping each field that fits). A string token fails that parse (the
  field is null in the probe); the other token does not.
-#}
{% macro segment_json_kinds() %}{{ return({'number': 'double', 'boolean': 'boolean', 'object': 'map<string,string>', 'array': 'array<string>'}) }}{% endmacro %}

{#- True when `value` (a string column) looks like the JSON text of a number, boolean, object or array. -#}
{% macro segment_json_look(value) -%}
    ({{ value }} rlike '^-?(0|[1-9][0-9]*)([.][0-9]+)?([eE][-+]?[0-9]+)?$' or {{ value }} in ('true', 'false') or left({{ value }}, 1) in ('{', '['))
{%- endmacro %}

{#- The JSON kind of the top-level string field `field` (value `value`) on a line that looks: 'number',
    'boolean', 'object' or 'array'; null for a string or no value. -#}
{% macro segment_json_kind(value, field) -%}
    case
        when not _looks then null
        when {{ value }} rlike '^-?(0|[1-9][0-9]*)([.][0-9]+)?([eE][-+]?[0-9]+)?$' and _probe_number.`{{ field }}` is not null then 'number'
        when {{ value }} in ('true', 'false') and _probe_boolean.`{{ field }}` is not null then 'boolean'
        when left({{ value }}, 1) = '{' and _probe_object.`{{ field }}` is not null then 'object'
        when left({{ value }}, 1) = '[' and _probe_array.`{{ field }}` is not null then 'array'
    end
{%- endmacro %}
