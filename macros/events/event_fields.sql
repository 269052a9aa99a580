{#-
  Derived event fields shared by the marts, one macro per rule of docs/queries.md, so the rule is
  written once and unit-tested through the models that use it.
-#}

{#- A page view is a `page` call (web) or a `screen` call (app). -#}
{% macro is_page_view(type_col) -%}
    coalesce({{ type_col }} in ('page', 'screen'), false)
{%- endmacro %}

{#- Q07: an article's id is the last segment of its page path (/community/articles/123 -> 123). -#}
{% macro article_id_from_path(path_col) -%}
    nullif(regexp_extract({{ path_col }}, '([^/?#]+)/*(?:[?#].*)?$', 1), '')
{%- endmacro %}

{#- Q13: the host of a referrer URL, lower-cased; `(direct)` when there is no referrer. -#}
{% macro referrer_domain(referrer_col) -%}
    case
        when nullif(trim({{ referrer_col }}), '') is null then '(direct)'
        else coalesce(lower(parse_url(trim({{ referrer_col }}), 'HOST')), '(unparsable)')
    end
{%- endmacro %}

{#-
  Q14: the search keyword in a query string (?q=…, ?keyword=… or ?query=…) or in a JSON
  object's "keyword", URL-decoded when it is validly %-encoded, trimmed and lower-cased.
  (Spark 3.5's url_decode fails on a bad escape and has no try_ form, hence the guard.)
-#}
{% macro search_keyword(search_col) -%}
    nullif(lower(trim(
        case
            when left(ltrim({{ search_col }}), 1) = '{' then get_json_object({{ search_col }}, '$.keyword')
            else
                case
                    when regexp_extract({{ search_col }}, '(?:^|[?&])(?:q|keyword|query)=([^&#]*)', 1)
                        rlike '^([^%]|%[0-9A-Fa-f]{2})*$'
                        then url_decode(regexp_extract({{ search_col }}, '(?:^|[?&])(?:q|keyword|query)=([^&#]*)', 1))
                    else regexp_extract({{ search_col }}, '(?:^|[?&])(?:q|keyword|query)=([^&#]*)', 1)
                end
        end
    )), '')
{%- endmacro %}

{#-
  Q17 device class: `app` for the app source; `mobile` when the client hints say mobile or the
  user agent names a mobile device; else `desktop`.
-#}
{% macro device_class(platform_col, ua_mobile_col, user_agent_col) -%}
    case
        when {{ platform_col }} = 'app' then 'app'
        when {{ ua_mobile_col }} then 'mobile'
        when {{ user_agent_col }} rlike '(?i)(mobi|android|iphone|ipad|ipod)' then 'mobile'
        else 'desktop'
    end
{%- endmacro %}

{#-
  Q17 browser: the first client-hint brand that is not a GREASE placeholder ("Not A Brand",
  "Not/A)Brand", "Not=A?Brand", …); else parsed from the user agent, most specific token
  first (Edge, Samsung Internet, Naver Whale, Opera and KakaoTalk all also say Chrome/Safari).
-#}
{% macro browser_name(brands_col, user_agent_col) -%}
    coalesce(
        element_at(filter({{ brands_col }}, b -> not b.brand rlike '(?i)not.?a.?brand'), 1).brand,
        case
            when {{ user_agent_col }} is null or trim({{ user_agent_col }}) = '' then '(not set)'
            when {{ user_agent_col }} rlike 'Edg(e|A|iOS)?/' then 'Microsoft Edge'
            when {{ user_agent_col }} rlike 'SamsungBrowser/' then 'Samsung Internet'
            when {{ user_agent_col }} rlike 'Whale/' then 'Whale'
            when {{ user_agent_col }} rlike '(OPR|Opera)/' then 'Opera'
            when {{ user_agent_col }} rlike 'KAKAOTALK' then 'KakaoTalk'
            when {{ user_agent_col }} rlike '(Chrome|CriOS)/' then 'Chrome'
            when {{ user_agent_col }} rlike '(Firefox|FxiOS)/' then 'Firefox'
            when {{ user_agent_col }} rlike 'Safari/' then 'Safari'
            else 'Other'
        end
    )
{%- endmacro %}

{#- Whole seconds between two timestamps, as Redshift's datediff(second, a, b) counts them. -#}
{% macro seconds_between(start_col, end_col) -%}
    (unix_timestamp({{ end_col }}) - unix_timestamp({{ start_col }}))
{%- endmacro %}

{#- `(not set)` for a missing dimension value, so a mart's grain keys are never null. -#}
{% macro not_set(col) -%}
    coalesce(nullif(trim({{ col }}), ''), '(not set)')
{%- endmacro %}
