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

{#-
  Select expressions that parse `line_column` and flatten every declared column to a
  snake_case column, for use in a query over the raw lines:
    from_json once for the line, once more for each object root's text.
  Returns {'line': [the expression adding the `_line` struct],
           'objects': [expressions adding one `_obj_<root>` struct per object root],
           'object_structs': [the names of those structs],
           'flat': [expressions over those structs, one per declared column],
           'strict_strings': [the top-level fields declared `string` that are not object roots:
                              they must hold a JSON string (segment_not_a_string)]}.
-#}
{% macro segment_parse_columns(table_name, line_column) %}
    {%- set columns = segment_source_columns(table_name) -%}
    {%- set roots = _segment_object_roots(columns) -%}
    {%- set parsed = ["from_json(" ~ line_column ~ ", '" ~ segment_line_schema(table_name) ~ "') as _line"] -%}
    {%- set flat = [] -%}
    {%- for root in roots -%}
        {%- do flat.append("_line.`" ~ root ~ "` as " ~ segment_snake_case(root)) -%}
    {%- endfor -%}
    {%- for name, dtype in columns -%}
        {%- set parts = name.split('.') -%}
        {%- if parts | length == 1 and name not in roots -%}
            {%- do flat.append("_line.`" ~ name ~ "` as " ~ segment_snake_case(name)) -%}
        {%- elif parts | length > 1 -%}
            {%- do flat.append("_obj_" ~ segment_snake_case(parts[0]) ~ ".`" ~ (parts[1:] | join('`.`')) ~ "` as " ~ segment_snake_case(name)) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set objects = [] -%}
    {%- for root in roots -%}
        {%- do objects.append("from_json(_line.`" ~ root ~ "`, '" ~ segment_object_schema(table_name, root) ~ "') as _obj_" ~ segment_snake_case(root)) -%}
    {%- endfor -%}
    {%- set object_structs = [] -%}
    {%- for root in roots -%}{%- do object_structs.append('_obj_' ~ segment_snake_case(root)) -%}{%- endfor -%}
    {%- set strict_strings = [] -%}
    {%- for name, dtype in columns if '.' not in name and name not in roots and dtype == 'string' -%}
        {%- do strict_strings.append(name) -%}
    {%- endfor -%}
    {{ return({'line': parsed, 'objects': objects, 'object_structs': object_structs, 'flat': flat,
               'strict_strings': strict_strings}) }}
{% endmacro %}
