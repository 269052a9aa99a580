"""Segment Spec conformance fixture: the Spec's documented example messages as raw log lines.

What this is
    A data module (no tests, no Spark): each `SpecCase` is one raw line as Segment's S3
    destination would write it (one JSON message per line), the source folder it goes to
    (`web`, `app` or `procedure`), the Spec page it follows, and the verdict and clashes the
    reader must give it under the declared read schema
    (`models/staging/segment/_segment__sources.yml`) and the rules of docs/reading-raw-logs.md ("Reading the
    raw logs"). Tests write `lines_for(day)` into a day's folders and compare the pipeline's
    verdicts with these.

    Source: Segment's public Spec, https://segment.com/docs/connections/spec/ (read from
    github.com/segmentio/segment-docs, src/connections/spec/, commit 747b35d8 of 2025-11-07):
    common, identify, group, page, screen, alias, track, mobile, video, ecommerce/v2, email,
    b2b-saas and copilot. Each case's comment cites the page (and section) it follows.

The lines are the Spec's examples as documented
    Key order, strings, nesting and number tokens are kept as written (`25.00` stays `25.00`,
    `29.00` stays `29.00`); only the whitespace between tokens is dropped, so each example is
    one line. The only changes:

    - `messageId` is replaced by "spec-<case id>" (added where the example has none): several
      pages reuse the same documented messageId (022bb90c-bbac-11e4-8dfc-aa07a5b093db on
      Common, Identify, Group, Page, Screen and Alias) and the pipeline deduplicates on it, so
      the Spec's own value would collapse those cases into one event. A nested
      `properties.messageId` (the Copilot pages' own message id) is not Segment's and is kept.
    - `timestamp` and `originalTimestamp` become "__TIMESTAMP__", `sentAt` "__SENT_AT__",
      `receivedAt` "__RECEIVED_AT__"; `timestamp`, `sentAt` and `receivedAt` are added where the
      example lacks them (Segment's servers add them). The documented times are in 2015 and
      would fall outside every run's window. Times inside properties (B2B trial dates) are
      left as written.
    - Where a page gives no complete message, the missing envelope is added and the case's
      comment says so: the e-commerce pages document `analytics.track(name, {...})` calls, so
      they are written as the message that call produces (`type`, `event`, `properties`;
      keys quoted, every value as written); the Video, Email and Copilot examples say
      `"action": "track"` instead of `"type"` (kept, an undeclared top-level field, with
      `"type": "track"` added); the Email examples say `"user_id"` (kept, with `userId` of the
      same value added); examples with no id at all get the Spec's own example anonymousId
      (507f191e810c19729de860ea; the Screen example's for the typical Screen payload).

    One line is kept malformed on purpose: the Copilot page's Identify example is not JSON
    (`"userId": "123" || "anonymousId" : ...`, `"properties":` with no value), verdict
    `malformed_json`. Every other line parses as JSON.

    `lines_for(day)` puts the times in: the i-th case of CASES (0-based) gets `day` 03:00:00
    UTC + i seconds as timestamp and originalTimestamp, sentAt 1 s later and receivedAt 2 s
    later, as ISO text like 2024-05-15T03:00:07.000Z. 03:00 UTC is noon KST of `day`, so
    every event belongs to `day`.

Verdicts
    "staged", or the quarantine reason, the first that applies in this order: empty_line,
    line_too_long (over 65,535 bytes), invalid_utf8, json_array, not_json, malformed_json,
    invalid_id (messageId, userId, anonymousId, previousId or groupId holding a JSON object or
    array), missing_message_id (absent, null or blank), missing_timestamp (absent or null),
    invalid_timestamp (present but not a time), missing_received_at, invalid_received_at,
    missing_type, unknown_type (not one of page, screen, track, identify, group, alias; a
    non-string type counts as unknown).

Clashes (staged lines only): declared path -> kind
    "nulled"        a declared field holds another type: that column alone is null, the line
                    is staged. The path is the declared field, or the declared object it sits
                    in when that is not an object (`properties.action` when the Spec sends
                    `"action": "Accept"` but the source declares properties.action.name/
                    .hospital; `properties` when properties is a string). Top-level string
                    fields (event, name, category, channel, projectId, ...) clash on a number,
                    boolean, object or array; originalTimestamp and sentAt clash when not a
                    time; boolean, timestamp, array, bigint and object fields clash on any other
                    type. A nested field declared string accepts any JSON value (an object or
                    number keeps its JSON text), `version` accepts any scalar, and undeclared
                    fields are never read: none of these clash.
    "kept_as_text"  an id field (messageId, userId, anonymousId, previousId, groupId) holding a
                    JSON number keeps its decimal text (12345 -> "12345"). A boolean there is
                    "nulled".

Drift cases (page "drift") are not Spec examples: each is a small call built to exercise one
of those rules, and cites the rule instead of a page.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

SOURCES = ("web", "app", "procedure")

QUARANTINE_REASONS = (
    "empty_line",
    "line_too_long",
    "invalid_utf8",
    "json_array",
    "not_json",
    "malformed_json",
    "invalid_id",
    "missing_message_id",
    "missing_timestamp",
    "invalid_timestamp",
    "missing_received_at",
    "invalid_received_at",
    "missing_type",
    "unknown_type",
)

CLASH_KINDS = ("nulled", "kept_as_text")

TIMESTAMP = "__TIMESTAMP__"
SENT_AT = "__SENT_AT__"
RECEIVED_AT = "__RECEIVED_AT__"


@dataclass(frozen=True)
class SpecCase:
    id: str  # short unique slug
    source: str  # "web", "app" or "procedure": the Segment source folder the line goes to
    page: str  # the Spec page URL it follows, or "drift"
    line: str  # the raw JSON line as text, with the time placeholders
    verdict: str  # "staged" or the quarantine reason
    clashes: dict[str, str] = field(default_factory=dict)  # path -> "nulled" | "kept_as_text"


CASES: list[SpecCase] = [
    # --------------------------------------------------------------------------------------------
    # The six calls (Identify, Group, Page, Alias, Track) and the common fields: web
    # --------------------------------------------------------------------------------------------
    # https://segment.com/docs/connections/spec/identify/#example
    # The complete Identify call.
    SpecCase(
        id="identify-full",
        source="web",
        page="https://segment.com/docs/connections/spec/identify/",
        line=(
            '{"anonymousId":"507f191e810c19729de860ea","channel":"browser",'  # pragma: allowlist secret
            '"context":{"ip":"8.8.8.8",'
            '"userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/40.0.2214.115 Safari/537.36"},'
            '"integrations":{"All":false,"Mixpanel":true,"Salesforce":true},'
            '"messageId":"spec-identify-full","receivedAt":"__RECEIVED_AT__",'
            '"sentAt":"__SENT_AT__","timestamp":"__TIMESTAMP__","traits":{"name":"Peter Gibbons",'
            '"email":"peter@example.com","plan":"premium","logins":5,'
            '"address":{"street":"6th St","city":"San Francisco","state":"CA",'
            '"postalCode":"94103","country":"USA"}},"type":"identify","userId":"97980cfea0067",'  # pragma: allowlist secret
            '"version":"1.1"}'
        ),
        verdict="staged",
    ),
    # https://segment.com/docs/connections/spec/group/#example
    # The complete Group call (traits.employees is a number here; the trait table says String).
    SpecCase(
        id="group-full",
        source="web",
        page="https://segment.com/docs/connections/spec/group/",
        line=(
            '{"anonymousId":"507f191e810c19729de860ea","channel":"browser",'  # pragma: allowlist secret
            '"context":{"ip":"8.8.8.8",'
            '"userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/40.0.2214.115 Safari/537.36"},'
            '"integrations":{"All":true,"Mixpanel":false,"Salesforce":false},'
            '"messageId":"spec-group-full","receivedAt":"__RECEIVED_AT__","sentAt":"__SENT_AT__",'
            '"timestamp":"__TIMESTAMP__","traits":{"name":"Initech","industry":"Technology",'
            '"employees":329,"plan":"enterprise","total billed":830},"type":"group",'
            '"userId":"97980cfea0067","groupId":"0e8c78ea9d97a7b8185e8632","version":"1.1"}'  # pragma: allowlist secret
        ),
        verdict="staged",
    ),
    # https://segment.com/docs/connections/spec/page/#example
    # The complete Page call.
    SpecCase(
        id="page-full",
        source="web",
        page="https://segment.com/docs/connections/spec/page/",
        line=(
            '{"anonymousId":"507f191e810c19729de860ea","channel":"browser",'  # pragma: allowlist secret
            '"context":{"ip":"8.8.8.8",'
            '"userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/40.0.2214.115 Safari/537.36"},'
            '"integrations":{"All":true,"Mixpanel":false,"Salesforce":false},'
            '"messageId":"spec-page-full","name":"Home",'
            '"properties":{"title":"Welcome | Initech","url":"http://www.example.com"},'
            '"receivedAt":"__RECEIVED_AT__","sentAt":"__SENT_AT__","timestamp":"__TIMESTAMP__",'
            '"type":"page","userId":"97980cfea0067","version":"1.1"}'  # pragma: allowlist secret
        ),
        verdict="staged",
    ),
    # https://segment.com/docs/connections/spec/alias/#examples
    # The complete Alias call.
    SpecCase(
        id="alias-full",
        source="web",
        page="https://segment.com/docs/connections/spec/alias/",
        line=(
            '{"anonymousId":"507f191e810c19729de860ea","channel":"browser",'  # pragma: allowlist secret
            '"context":{"ip":"8.8.8.8",'
            '"userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/40.0.2214.115 Safari/537.36"},'
            '"integrations":{"All":true,"Mixpanel":false,"Salesforce":false},'
            '"messageId":"spec-alias-full","previousId":"39239-239239-239239-23923",'
            '"receivedAt":"__RECEIVED_AT__","sentAt":"__SENT_AT__","timestamp":"__TIMESTAMP__",'
            '"type":"alias","userId":"507f191e81","version":"1.1"}'
        ),
        verdict="staged",
    ),
    # https://segment.com/docs/connections/spec/track/#example
    # The complete Track call: it documents originalTimestamp and, unlike the other calls, no
    # version.
    SpecCase(
        id="track-full",
        source="web",
        page="https://segment.com/docs/connections/spec/track/",
        line=(
            '{"anonymousId":"23adfd82-aa0f-45a7-a756-24f2a7a4c895",'
            '"context":{"library":{"name":"analytics.js","version":"2.11.1"},'
            '"page":{"path":"/academy/","referrer":"","search":"","title":"Analytics Academy",'
            '"url":"https://segment.com/academy/"},'
            '"userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/46.0.2490.86 Safari/537.36",'
            '"ip":"108.0.78.21"},"event":"Course Clicked","integrations":{},'
            '"messageId":"spec-track-full","properties":{"title":"Intro to Analytics"},'
            '"receivedAt":"__RECEIVED_AT__","sentAt":"__SENT_AT__","timestamp":"__TIMESTAMP__",'
            '"type":"track","userId":"AiUGstSDIg","originalTimestamp":"__TIMESTAMP__"}'
        ),
        verdict="staged",
    ),
    # https://segment.com/docs/connections/spec/track/#sending-traits-in-a-track-call---destination-actions
    # The Track example with context.traits (event "Button Clicked"); context.traits is
    # undeclared.
    SpecCase(
        id="track-context-traits",
        source="web",
        page="https://segment.com/docs/connections/spec/track/",
        line=(
            '{"anonymousId":"23adfd82-aa0f-45a7-a756-24f2a7a4c895",'
            '"context":{"library":{"name":"analytics.js","version":"2.11.1"},'
            '"page":{"path":"/academy/","referrer":"","search":"","title":"Analytics Academy",'
            '"url":"https://segment.com/academy/"},'
            '"userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/46.0.2490.86 Safari/537.36",'
            '"ip":"108.0.78.21","traits":{"username":"testing-123"}},"event":"Button Clicked",'
            '"integrations":{},"messageId":"spec-track-context-traits",'
            '"properties":{"title":"Intro to Analytics"},"receivedAt":"__RECEIVED_AT__",'
            '"sentAt":"__SENT_AT__","timestamp":"__TIMESTAMP__","type":"track",'
            '"userId":"AiUGstSDIg","originalTimestamp":"__TIMESTAMP__"}'
        ),
        verdict="staged",
    ),
    # https://segment.com/docs/connections/spec/common/#structure
    # The common-fields example: every context object, version as the number 2, context.groupId
    # (undeclared).
    SpecCase(
        id="common-full",
        source="web",
        page="https://segment.com/docs/connections/spec/common/",
        line=(
            '{"anonymousId":"507f191e810c19729de860ea","context":{"active":true,'  # pragma: allowlist secret
            '"app":{"name":"InitechGlobal","version":"545","build":"3.0.1.545",'
            '"namespace":"com.production.segment"},'
            '"campaign":{"name":"TPS Innovation Newsletter","source":"Newsletter",'
            '"medium":"email","term":"tps reports","content":"image link"},'
            '"device":{"id":"B5372DB0-C21E-11E4-8DFC-AA07A5B093DB",'
            '"advertisingId":"7A3CBEA0-BDF5-11E4-8DFC-AA07A5B093DB","adTrackingEnabled":true,'
            '"manufacturer":"Apple","model":"iPhone7,2","name":"maguro","type":"ios",'
            '"token":"ff15bc0c20c4aa6cd50854ff165fd265c838e5405bfeb9571066395b8c9da449"},'  # pragma: allowlist secret
            '"ip":"8.8.8.8","library":{"name":"analytics.js","version":"2.11.1"},'
            '"locale":"en-US","network":{"bluetooth":false,"carrier":"T-Mobile US",'
            '"cellular":true,"wifi":false},"os":{"name":"iPhone OS","version":"8.1.3"},'
            '"page":{"path":"/academy/","referrer":"","search":"","title":"Analytics Academy",'
            '"url":"https://segment.com/academy/"},"referrer":{"id":"ABCD582CDEFFFF01919",'  # pragma: allowlist secret
            '"type":"dataxu"},"screen":{"width":320,"height":568,"density":2},"groupId":"12345",'
            '"timezone":"Europe/Amsterdam",'
            '"userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/113.0.0.0 Safari/537.36",'
            '"userAgentData":{"brands":[{"brand":"Google Chrome","version":"113"},'
            '{"brand":"Chromium","version":"113"},{"brand":"Not-A.Brand","version":"24"}],'
            '"mobile":false,"platform":"macOS"}},"integrations":{"All":true,"Mixpanel":false,'
            '"Salesforce":false},"event":"Report Submitted","messageId":"spec-common-full",'
            '"receivedAt":"__RECEIVED_AT__","sentAt":"__SENT_AT__","timestamp":"__TIMESTAMP__",'
            '"type":"track","userId":"97980cfea0067","version":2}'  # pragma: allowlist secret
        ),
        verdict="staged",
    ),

    # --------------------------------------------------------------------------------------------
    # Video: web
    # --------------------------------------------------------------------------------------------
    # https://segment.com/docs/connections/spec/video/#video-playback-started
    # Playback event. The Video page writes the call as "action": "track" with no "type"; "action"
    # is kept as documented (an undeclared top-level field) and "type": "track" is added.
    # properties.ad_type is an array here (an enum in the table).
    SpecCase(
        id="video-playback-started",
        source="web",
        page="https://segment.com/docs/connections/spec/video/",
        line=(
            '{"action":"track","event":"Video Playback Started","userId":"userId",'
            '"properties":{"session_id":"12345","content_asset_ids":["0129370"],'
            '"content_pod_ids":["segA","segB"],"ad_asset_id":["ad123","ad097"],'
            '"ad_pod_id":["adSegA","adSegB"],"ad_type":["mid-roll","post-roll"],"position":0,'
            '"total_length":392,"bitrate":100,"framerate":29.00,"video_player":"youtube",'
            '"sound":88,"full_screen":false,"ad_enabled":true,"quality":"hd1080",'
            '"livestream":false},"type":"track","messageId":"spec-video-playback-started",'
            '"timestamp":"__TIMESTAMP__","sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
    ),
    # https://segment.com/docs/connections/spec/video/#video-content-started
    # Content event. The Video page writes the call as "action": "track" with no "type"; "action"
    # is kept as documented (an undeclared top-level field) and "type": "track" is added.
    SpecCase(
        id="video-content-started",
        source="web",
        page="https://segment.com/docs/connections/spec/video/",
        line=(
            '{"action":"track","event":"Video Content Started","userId":"userId",'
            '"properties":{"session_id":"12345","asset_id":"0129370","pod_id":"segA",'
            '"program":"Planet Earth","title":"Seasonal Forests",'
            '"description":"David Attenborough reveals the greatest woodlands on earth.",'
            '"season":"1","position":0,"total_length":3600,"genre":"Documentary",'
            '"publisher":"BBC","full_episode":true,"keywords":["nature","forests","earth"]},'
            '"type":"track","messageId":"spec-video-content-started","timestamp":"__TIMESTAMP__",'
            '"sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
    ),
    # https://segment.com/docs/connections/spec/video/#video-ad-started
    # Ad event (properties.type "pre-roll", undeclared). The Video page writes the call as
    # "action": "track" with no "type"; "action" is kept as documented (an undeclared top-level
    # field) and "type": "track" is added.
    SpecCase(
        id="video-ad-started",
        source="web",
        page="https://segment.com/docs/connections/spec/video/",
        line=(
            '{"action":"track","event":"Video Ad Started","userId":"userId",'
            '"properties":{"session_id":"12345","asset_id":"0129370","pod_id":"segA",'
            '"type":"pre-roll","title":"The New New Thing!","position":0,"total_length":30,'
            '"publisher":"Apple","load_type":"dynamic"},"type":"track",'
            '"messageId":"spec-video-ad-started","timestamp":"__TIMESTAMP__",'
            '"sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
    ),

    # --------------------------------------------------------------------------------------------
    # E-commerce v2: web
    # --------------------------------------------------------------------------------------------
    # https://segment.com/docs/connections/spec/ecommerce/v2/#products-searched
    # Products Searched. Documented as analytics.track(name, properties): written as the message
    # it produces (type, event, properties; keys quoted, every value as written); the page gives
    # no id, so the Spec's example anonymousId 507f191e810c19729de860ea is added.
    SpecCase(
        id="ecommerce-products-searched",
        source="web",
        page="https://segment.com/docs/connections/spec/ecommerce/v2/",
        line=(
            '{"type":"track","event":"Products Searched","properties":{"query":"blue roses"},'
            '"anonymousId":"507f191e810c19729de860ea",'  # pragma: allowlist secret
            '"messageId":"spec-ecommerce-products-searched","timestamp":"__TIMESTAMP__",'
            '"sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
    ),
    # https://segment.com/docs/connections/spec/ecommerce/v2/#product-viewed
    # Product Viewed. Documented as analytics.track(name, properties): written as the message it
    # produces (type, event, properties; keys quoted, every value as written); the page gives no
    # id, so the Spec's example anonymousId 507f191e810c19729de860ea is added.
    SpecCase(
        id="ecommerce-product-viewed",
        source="web",
        page="https://segment.com/docs/connections/spec/ecommerce/v2/",
        line=(
            '{"type":"track","event":"Product Viewed",'
            '"properties":{"product_id":"507f1f77bcf86cd799439011","sku":"G-32",'
            '"category":"Games","name":"Monopoly: 3rd Edition","brand":"Hasbro",'
            '"variant":"200 pieces","price":18.99,"quantity":1,"coupon":"MAYDEALS",'
            '"currency":"usd","position":3,"value":18.99,'
            '"url":"https://www.example.com/product/path",'
            '"image_url":"https://www.example.com/product/path.jpg"},'
            '"anonymousId":"507f191e810c19729de860ea",'  # pragma: allowlist secret
            '"messageId":"spec-ecommerce-product-viewed","timestamp":"__TIMESTAMP__",'
            '"sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
    ),
    # https://segment.com/docs/connections/spec/ecommerce/v2/#product-added
    # Product Added. Documented as analytics.track(name, properties): written as the message it
    # produces (type, event, properties; keys quoted, every value as written); the page gives no
    # id, so the Spec's example anonymousId 507f191e810c19729de860ea is added.
    SpecCase(
        id="ecommerce-product-added",
        source="web",
        page="https://segment.com/docs/connections/spec/ecommerce/v2/",
        line=(
            '{"type":"track","event":"Product Added","properties":{"cart_id":"skdjsidjsdkdj29j",'
            '"product_id":"507f1f77bcf86cd799439011","sku":"G-32","category":"Games",'
            '"name":"Monopoly: 3rd Edition","brand":"Hasbro","variant":"200 pieces",'
            '"price":18.99,"quantity":1,"coupon":"MAYDEALS","position":3,'
            '"url":"https://www.example.com/product/path",'
            '"image_url":"https://www.example.com/product/path.jpg"},'
            '"anonymousId":"507f191e810c19729de860ea","messageId":"spec-ecommerce-product-added",'  # pragma: allowlist secret
            '"timestamp":"__TIMESTAMP__","sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
    ),
    # https://segment.com/docs/connections/spec/ecommerce/v2/#checkout-started
    # Checkout Started. Documented as analytics.track(name, properties): written as the message it
    # produces (type, event, properties; keys quoted, every value as written); the page gives no
    # id, so the Spec's example anonymousId 507f191e810c19729de860ea is added. revenue 25.00 kept
    # as written.
    SpecCase(
        id="ecommerce-checkout-started",
        source="web",
        page="https://segment.com/docs/connections/spec/ecommerce/v2/",
        line=(
            '{"type":"track","event":"Checkout Started",'
            '"properties":{"order_id":"50314b8e9bcf000000000000","affiliation":"Google Store",'
            '"value":30,"revenue":25.00,"shipping":3,"tax":2,"discount":2.5,"coupon":"hasbros",'
            '"currency":"USD","products":[{"product_id":"507f1f77bcf86cd799439011",'
            '"sku":"45790-32","name":"Monopoly: 3rd Edition","price":19,"quantity":1,'
            '"category":"Games","url":"https://www.example.com/product/path",'
            '"image_url":"https://www.example.com/product/path.jpg"},'
            '{"product_id":"505bd76785ebb509fc183733","sku":"46493-32","name":"Uno Card Game",'
            '"price":3,"quantity":2,"category":"Games"}]},'
            '"anonymousId":"507f191e810c19729de860ea",'  # pragma: allowlist secret
            '"messageId":"spec-ecommerce-checkout-started","timestamp":"__TIMESTAMP__",'
            '"sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
    ),
    # https://segment.com/docs/connections/spec/ecommerce/v2/#order-completed
    # Order Completed. Documented as analytics.track(name, properties): written as the message it
    # produces (type, event, properties; keys quoted, every value as written); the page gives no
    # id, so the Spec's example anonymousId 507f191e810c19729de860ea is added. total 27.50,
    # subtotal 22.50 kept as written; properties.products is undeclared.
    SpecCase(
        id="ecommerce-order-completed",
        source="web",
        page="https://segment.com/docs/connections/spec/ecommerce/v2/",
        line=(
            '{"type":"track","event":"Order Completed",'
            '"properties":{"checkout_id":"fksdjfsdjfisjf9sdfjsd9f",'
            '"order_id":"50314b8e9bcf000000000000","affiliation":"Google Store","total":27.50,'
            '"subtotal":22.50,"revenue":22.50,"shipping":3,"tax":2,"discount":2.5,'
            '"coupon":"hasbros","currency":"USD",'
            '"products":[{"product_id":"507f1f77bcf86cd799439011","sku":"45790-32",'
            '"name":"Monopoly: 3rd Edition","price":19,"quantity":1,"category":"Games",'
            '"url":"https://www.example.com/product/path",'
            '"image_url":"https://www.example.com/product/path.jpg"},'
            '{"product_id":"505bd76785ebb509fc183733","sku":"46493-32","name":"Uno Card Game",'
            '"price":3,"quantity":2,"category":"Games"}]},'
            '"anonymousId":"507f191e810c19729de860ea",'  # pragma: allowlist secret
            '"messageId":"spec-ecommerce-order-completed","timestamp":"__TIMESTAMP__",'
            '"sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
    ),
    # https://segment.com/docs/connections/spec/ecommerce/v2/#promotion-viewed
    # Promotion Viewed. Documented as analytics.track(name, properties): written as the message it
    # produces (type, event, properties; keys quoted, every value as written); the page gives no
    # id, so the Spec's example anonymousId 507f191e810c19729de860ea is added.
    SpecCase(
        id="ecommerce-promotion-viewed",
        source="web",
        page="https://segment.com/docs/connections/spec/ecommerce/v2/",
        line=(
            '{"type":"track","event":"Promotion Viewed","properties":{"promotion_id":"promo_1",'
            '"creative":"top_banner_2","name":"75% store-wide shoe sale",'
            '"position":"home_banner_top"},"anonymousId":"507f191e810c19729de860ea",'  # pragma: allowlist secret
            '"messageId":"spec-ecommerce-promotion-viewed","timestamp":"__TIMESTAMP__",'
            '"sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
    ),

    # --------------------------------------------------------------------------------------------
    # Email: web
    # --------------------------------------------------------------------------------------------
    # https://segment.com/docs/connections/spec/email/#email-opened
    # Email Opened. The Email page writes "user_id" and "action": "track" (no userId, no type):
    # both kept as documented (undeclared) and "type": "track" plus "userId" with the same value
    # are added.
    SpecCase(
        id="email-opened",
        source="web",
        page="https://segment.com/docs/connections/spec/email/",
        line=(
            '{"user_id":"019mr8mf4r","action":"track","event":"Email Opened",'
            '"context":{"ip":"67.207.109.102",'
            '"user_agent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10_2) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/41.0.2272.118 Safari/537.36",'
            '"traits":{"email":"pgibbons@example.com"}},"properties":{"email_id":"18vzF7u3z",'
            '"email_subject":"First shirt on us!","campaign_id":"123",'
            '"campaign_name":"New Customer Discount"},"type":"track","userId":"019mr8mf4r",'
            '"messageId":"spec-email-opened","timestamp":"__TIMESTAMP__","sentAt":"__SENT_AT__",'
            '"receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
    ),
    # https://segment.com/docs/connections/spec/email/#email-link-clicked
    # Email Link Clicked (its context table calls context.ip an Object; the example sends a
    # string). The Email page writes "user_id" and "action": "track" (no userId, no type): both
    # kept as documented (undeclared) and "type": "track" plus "userId" with the same value are
    # added.
    SpecCase(
        id="email-link-clicked",
        source="web",
        page="https://segment.com/docs/connections/spec/email/",
        line=(
            '{"user_id":"019mr8mf4r","action":"track","event":"Email Link Clicked",'
            '"context":{"ip":"67.207.109.102",'
            '"user_agent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10_2) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/41.0.2272.118 Safari/537.36",'
            '"traits":{"email":"joanna@chotchkies.com"}},"properties":{"email_id":"18vzF7u3z",'
            '"email_subject":"First shirt on us!","campaign_id":"123",'
            '"campaign_name":"New Customer Discount","link_id":"101",'
            '"link_url":"https://www.buymyshirts.com?promo=NEWCUSTOMER"},"type":"track",'
            '"userId":"019mr8mf4r","messageId":"spec-email-link-clicked",'
            '"timestamp":"__TIMESTAMP__","sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
    ),

    # --------------------------------------------------------------------------------------------
    # B2B SaaS: web
    # --------------------------------------------------------------------------------------------
    # https://segment.com/docs/connections/spec/b2b-saas/#account-created
    # Account Created. context.groupId is undeclared.
    SpecCase(
        id="b2b-account-created",
        source="web",
        page="https://segment.com/docs/connections/spec/b2b-saas/",
        line=(
            '{"userId":"019mr8mf4r","type":"track","event":"Account Created",'
            '"properties":{"account_name":"Initech"},"context":{"groupId":"acct_123"},'
            '"messageId":"spec-b2b-account-created","timestamp":"__TIMESTAMP__",'
            '"sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
    ),
    # https://segment.com/docs/connections/spec/b2b-saas/#signed-up
    # Signed Up: properties.type "organic" (a property named like the call type; undeclared).
    # context.groupId is undeclared.
    SpecCase(
        id="b2b-signed-up",
        source="web",
        page="https://segment.com/docs/connections/spec/b2b-saas/",
        line=(
            '{"userId":"019mr8mf4r","type":"track","event":"Signed Up",'
            '"properties":{"type":"organic","first_name":"Peter","last_name":"Gibbons",'
            '"email":"pgibbons@example.com","phone":"410-555-9412","username":"pgibbons",'
            '"title":"Mr"},"context":{"groupId":"acct_123"},"messageId":"spec-b2b-signed-up",'
            '"timestamp":"__TIMESTAMP__","sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
    ),
    # https://segment.com/docs/connections/spec/b2b-saas/#invite-sent
    # Invite Sent. context.groupId is undeclared.
    SpecCase(
        id="b2b-invite-sent",
        source="web",
        page="https://segment.com/docs/connections/spec/b2b-saas/",
        line=(
            '{"userId":"019mr8mf4r","type":"track","event":"Invite Sent",'
            '"properties":{"invitee_email":"pgibbons@example.com","invitee_first_name":"Peter",'
            '"invitee_last_name":"Gibbons","invitee_role":"Owner"},'
            '"context":{"groupId":"acct_123"},"messageId":"spec-b2b-invite-sent",'
            '"timestamp":"__TIMESTAMP__","sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
    ),
    # https://segment.com/docs/connections/spec/b2b-saas/#trial-started
    # Trial Started: the 2018 trial dates are properties, kept as written. context.groupId is
    # undeclared.
    SpecCase(
        id="b2b-trial-started",
        source="web",
        page="https://segment.com/docs/connections/spec/b2b-saas/",
        line=(
            '{"userId":"019mr8mf4r","type":"track","event":"Trial Started",'
            '"properties":{"trial_start_date":"2018-08-28T04:09:47Z",'
            '"trial_end_date":"2018-09-20T04:09:47Z","trial_plan_name":"Business"},'
            '"context":{"groupId":"acct_123"},"messageId":"spec-b2b-trial-started",'
            '"timestamp":"__TIMESTAMP__","sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
    ),

    # --------------------------------------------------------------------------------------------
    # AI Copilot: web
    # --------------------------------------------------------------------------------------------
    # https://segment.com/docs/connections/spec/copilot/#conversation-started
    # Conversation Started. The Copilot page writes "action": "track" (no type): kept, "type":
    # "track" added. properties.messageId is the copilot message id, not Segment's: kept as
    # written.
    SpecCase(
        id="copilot-conversation-started",
        source="web",
        page="https://segment.com/docs/connections/spec/copilot/",
        line=(
            '{"userId":"123","action":"track","event":"Conversation Started",'
            '"properties":{"conversationId":"1238041hdou"},"type":"track",'
            '"messageId":"spec-copilot-conversation-started","timestamp":"__TIMESTAMP__",'
            '"sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
    ),
    # https://segment.com/docs/connections/spec/copilot/#message-sent
    # Message Sent. The Copilot page writes "action": "track" (no type): kept, "type": "track"
    # added. properties.messageId is the copilot message id, not Segment's: kept as written.
    SpecCase(
        id="copilot-message-sent",
        source="web",
        page="https://segment.com/docs/connections/spec/copilot/",
        line=(
            '{"userId":"123","action":"track","event":"Message Sent",'
            '"properties":{"conversationId":"1238041hdou","messageId":"msg123",'
            '"message_body":"What\'s the best stock in the Nasdaq right now?","role":"customer"},'
            '"type":"track","messageId":"spec-copilot-message-sent","timestamp":"__TIMESTAMP__",'
            '"sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
    ),
    # https://segment.com/docs/connections/spec/copilot/#message-received
    # Message Received: "role" sits at the top level, outside properties (undeclared). The Copilot
    # page writes "action": "track" (no type): kept, "type": "track" added. properties.messageId
    # is the copilot message id, not Segment's: kept as written.
    SpecCase(
        id="copilot-message-received",
        source="web",
        page="https://segment.com/docs/connections/spec/copilot/",
        line=(
            '{"userId":"123","action":"track","event":"Message Received",'
            '"properties":{"conversationId":"1238041hdou","messageId":"msg124",'
            '"message_body":"Thank you for reaching out. How can I assist you today?"},'
            '"role":"agent","type":"track","messageId":"spec-copilot-message-received",'
            '"timestamp":"__TIMESTAMP__","sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
    ),
    # https://segment.com/docs/connections/spec/copilot/#action-invoked
    # Action Invoked: properties.action is a plain string, where the source declares an object.
    # The Copilot page writes "action": "track" (no type): kept, "type": "track" added.
    # properties.messageId is the copilot message id, not Segment's: kept as written.
    SpecCase(
        id="copilot-action-invoked",
        source="web",
        page="https://segment.com/docs/connections/spec/copilot/",
        line=(
            '{"userId":"123","action":"track","event":"Action Invoked",'
            '"properties":{"conversationId":"1238041hdou","messageId":"msg125",'
            '"type":"Inventory Request","action":"check stock level","role":"customer"},'
            '"type":"track","messageId":"spec-copilot-action-invoked",'
            '"timestamp":"__TIMESTAMP__","sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
        clashes={"properties.action": "nulled"},
    ),
    # https://segment.com/docs/connections/spec/copilot/#feedback-submitted
    # Feedback Submitted (rating 5). The Copilot page writes "action": "track" (no type): kept,
    # "type": "track" added. properties.messageId is the copilot message id, not Segment's: kept
    # as written.
    SpecCase(
        id="copilot-feedback-submitted",
        source="web",
        page="https://segment.com/docs/connections/spec/copilot/",
        line=(
            '{"userId":"123","action":"track","event":"Feedback Submitted",'
            '"properties":{"conversationId":"1238041hdou","messageId":"msg128","rating":5},'
            '"type":"track","messageId":"spec-copilot-feedback-submitted",'
            '"timestamp":"__TIMESTAMP__","sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
    ),
    # https://segment.com/docs/connections/spec/copilot/#identify
    # The Identify example is not JSON ("userId": "123" || "anonymousId" : ..., "properties": with
    # no value). Kept as documented (messageId and times put first) on purpose: the one line of
    # this file that is meant to fail.
    SpecCase(
        id="copilot-identify-as-documented",
        source="web",
        page="https://segment.com/docs/connections/spec/copilot/",
        line=(
            '{"messageId":"spec-copilot-identify-as-documented","timestamp":"__TIMESTAMP__",'
            '"sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__",'
            '"userId":"123"||"anonymousId":"768923ihuy32","action":"identify","properties":}'
        ),
        verdict="malformed_json",
    ),

    # --------------------------------------------------------------------------------------------
    # Screen and the Native Mobile Spec: app
    # --------------------------------------------------------------------------------------------
    # https://segment.com/docs/connections/spec/screen/#example
    # The complete Screen call.
    SpecCase(
        id="screen-full",
        source="app",
        page="https://segment.com/docs/connections/spec/screen/",
        line=(
            '{"anonymousId":"3a12eab0-bca7-11e4-8dfc-aa07a5b093db","channel":"mobile",'
            '"context":{"ip":"8.8.8.8"},"integrations":{"All":true,"Mixpanel":false,'
            '"Salesforce":false},"messageId":"spec-screen-full","name":"Home",'
            '"properties":{"variation":"blue signup button"},"receivedAt":"__RECEIVED_AT__",'
            '"sentAt":"__SENT_AT__","timestamp":"__TIMESTAMP__","type":"screen",'
            '"userId":"97980cfea0067","version":"1.1"}'  # pragma: allowlist secret
        ),
        verdict="staged",
    ),
    # https://segment.com/docs/connections/spec/screen/
    # The typical Screen payload (property "Feed Type" with a space); the Screen example's
    # anonymousId is added.
    SpecCase(
        id="screen-simple",
        source="app",
        page="https://segment.com/docs/connections/spec/screen/",
        line=(
            '{"type":"screen","name":"Home","properties":{"Feed Type":"private"},'
            '"anonymousId":"3a12eab0-bca7-11e4-8dfc-aa07a5b093db",'
            '"messageId":"spec-screen-simple","timestamp":"__TIMESTAMP__","sentAt":"__SENT_AT__",'
            '"receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
    ),
    # https://segment.com/docs/connections/spec/mobile/#application-installed
    # Application Installed (properties.version "1.2.3", undeclared). The mobile payloads carry no
    # version or context.
    SpecCase(
        id="mobile-application-installed",
        source="app",
        page="https://segment.com/docs/connections/spec/mobile/",
        line=(
            '{"userId":"019mr8mf4r","type":"track","event":"Application Installed",'
            '"properties":{"version":"1.2.3","build":"1234"},'
            '"messageId":"spec-mobile-application-installed","timestamp":"__TIMESTAMP__",'
            '"sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
    ),
    # https://segment.com/docs/connections/spec/mobile/#application-opened
    # Application Opened (properties.from_background false, properties.url a string). The mobile
    # payloads carry no version or context.
    SpecCase(
        id="mobile-application-opened",
        source="app",
        page="https://segment.com/docs/connections/spec/mobile/",
        line=(
            '{"userId":"019mr8mf4r","type":"track","event":"Application Opened",'
            '"properties":{"from_background":false,"referring_application":"GMail",'
            '"url":"url://location"},"messageId":"spec-mobile-application-opened",'
            '"timestamp":"__TIMESTAMP__","sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
    ),
    # https://segment.com/docs/connections/spec/mobile/#install-attributed
    # Install Attributed: properties.campaign (undeclared; only context.campaign is declared). The
    # mobile payloads carry no version or context.
    SpecCase(
        id="mobile-install-attributed",
        source="app",
        page="https://segment.com/docs/connections/spec/mobile/",
        line=(
            '{"userId":"019mr8mf4r","type":"track","event":"Install Attributed",'
            '"properties":{"provider":"Tune/Kochava/Branch/AppsFlyer",'
            '"campaign":{"source":"Network/FB/AdWords/MoPub/Source","name":"Campaign Name",'
            '"content":"Organic Content Title","ad_creative":"Red Hello World Ad",'
            '"ad_group":"Red Ones"}},"messageId":"spec-mobile-install-attributed",'
            '"timestamp":"__TIMESTAMP__","sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
    ),
    # https://segment.com/docs/connections/spec/mobile/#push-notification-received
    # Push Notification Received. The mobile payloads carry no version or context.
    SpecCase(
        id="mobile-push-notification-received",
        source="app",
        page="https://segment.com/docs/connections/spec/mobile/",
        line=(
            '{"userId":"019mr8mf4r","type":"track","event":"Push Notification Received",'
            '"properties":{"campaign":{"medium":"Push","source":"Vendor Name",'
            '"name":"Referral Flow","content":"Your friend invited you to play a match."}},'
            '"messageId":"spec-mobile-push-notification-received","timestamp":"__TIMESTAMP__",'
            '"sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
    ),
    # https://segment.com/docs/connections/spec/mobile/#push-notification-tapped
    # Push Notification Tapped: properties.action "Accept" is a plain string, the source declares
    # an object.
    SpecCase(
        id="mobile-push-notification-tapped",
        source="app",
        page="https://segment.com/docs/connections/spec/mobile/",
        line=(
            '{"userId":"019mr8mf4r","type":"track","event":"Push Notification Tapped",'
            '"properties":{"action":"Accept","campaign":{"medium":"Push","source":"Vendor Name",'
            '"name":"Referral Flow","content":"Your friend invited you to play a match."}},'
            '"messageId":"spec-mobile-push-notification-tapped","timestamp":"__TIMESTAMP__",'
            '"sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
        clashes={"properties.action": "nulled"},
    ),
    # https://segment.com/docs/connections/spec/mobile/#push-notification-bounced
    # Push Notification Bounced ("event":"Push Notification Bounced" written without a space in
    # the doc): properties.action a plain string.
    SpecCase(
        id="mobile-push-notification-bounced",
        source="app",
        page="https://segment.com/docs/connections/spec/mobile/",
        line=(
            '{"userId":"019mr8mf4r","type":"track","event":"Push Notification Bounced",'
            '"properties":{"action":"Accept","campaign":{"medium":"Push","source":"Vendor Name",'
            '"name":"Referral Flow","content":"Your friend invited you to play a match."}},'
            '"messageId":"spec-mobile-push-notification-bounced","timestamp":"__TIMESTAMP__",'
            '"sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
        clashes={"properties.action": "nulled"},
    ),

    # --------------------------------------------------------------------------------------------
    # Simple calls: procedure
    # --------------------------------------------------------------------------------------------
    # https://segment.com/docs/connections/spec/page/
    # The typical Page payload; the Spec's example anonymousId is added.
    SpecCase(
        id="procedure-page-simple",
        source="procedure",
        page="https://segment.com/docs/connections/spec/page/",
        line=(
            '{"type":"page","name":"Home","properties":{"title":"Welcome | Initech",'
            '"url":"http://www.example.com"},"anonymousId":"507f191e810c19729de860ea",'  # pragma: allowlist secret
            '"messageId":"spec-procedure-page-simple","timestamp":"__TIMESTAMP__",'
            '"sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
    ),
    # https://segment.com/docs/connections/spec/track/
    # The typical Track payload ("accountType" : "Facebook"); the Spec's example anonymousId is
    # added.
    SpecCase(
        id="procedure-track-simple",
        source="procedure",
        page="https://segment.com/docs/connections/spec/track/",
        line=(
            '{"type":"track","event":"User Registered","properties":{"plan":"Pro Annual",'
            '"accountType":"Facebook"},"anonymousId":"507f191e810c19729de860ea",'  # pragma: allowlist secret
            '"messageId":"spec-procedure-track-simple","timestamp":"__TIMESTAMP__",'
            '"sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
    ),
    # https://segment.com/docs/connections/spec/identify/
    # The typical Identify payload (userId only).
    SpecCase(
        id="procedure-identify-simple",
        source="procedure",
        page="https://segment.com/docs/connections/spec/identify/",
        line=(
            '{"type":"identify","traits":{"name":"Peter Gibbons","email":"peter@example.com",'
            '"plan":"premium","logins":5},"userId":"97980cfea0067",'  # pragma: allowlist secret
            '"messageId":"spec-procedure-identify-simple","timestamp":"__TIMESTAMP__",'
            '"sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
    ),
    # https://segment.com/docs/connections/spec/ecommerce/v2/#promotion-clicked
    # Promotion Clicked: promotion_id, creative, name, position are declared strings on this
    # source. Documented as analytics.track(name, properties): written as the message it produces
    # (type, event, properties; keys quoted, every value as written); the page gives no id, so the
    # Spec's example anonymousId 507f191e810c19729de860ea is added.
    SpecCase(
        id="procedure-promotion-clicked",
        source="procedure",
        page="https://segment.com/docs/connections/spec/ecommerce/v2/",
        line=(
            '{"type":"track","event":"Promotion Clicked","properties":{"promotion_id":"promo_1",'
            '"creative":"top_banner_2","name":"75% store-wide shoe sale",'
            '"position":"home_banner_top"},"anonymousId":"507f191e810c19729de860ea",'  # pragma: allowlist secret
            '"messageId":"spec-procedure-promotion-clicked","timestamp":"__TIMESTAMP__",'
            '"sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
    ),

    # --------------------------------------------------------------------------------------------
    # Drift: not Spec examples but the type drift the reader must absorb; each cites the rule
    # (README.md, "Reading the raw logs") instead of a page. Web unless stated.
    # --------------------------------------------------------------------------------------------
    # Rule: README.md, "Reading the raw logs" (declared types, verdicts, clashes).
    # version as the string "1.1" (Identify, Page, ... examples): any scalar, never a clash.
    SpecCase(
        id="drift-version-string",
        source="web",
        page="drift",
        line=(
            '{"type":"track","event":"Drift Checked","anonymousId":"spec-anon-drift",'
            '"version":"1.1","messageId":"spec-drift-version-string","timestamp":"__TIMESTAMP__",'
            '"sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
    ),
    # Rule: README.md, "Reading the raw logs" (declared types, verdicts, clashes).
    # version as the number 2 (Common fields example): any scalar, never a clash.
    SpecCase(
        id="drift-version-number",
        source="web",
        page="drift",
        line=(
            '{"type":"track","event":"Drift Checked","anonymousId":"spec-anon-drift","version":2,'
            '"messageId":"spec-drift-version-number","timestamp":"__TIMESTAMP__",'
            '"sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
    ),
    # Rule: README.md, "Reading the raw logs" (declared types, verdicts, clashes).
    # properties.action a string where an object (name, hospital) is declared.
    SpecCase(
        id="drift-action-string",
        source="web",
        page="drift",
        line=(
            '{"type":"track","event":"Drift Checked","anonymousId":"spec-anon-drift",'
            '"properties":{"action":"Open"},"messageId":"spec-drift-action-string",'
            '"timestamp":"__TIMESTAMP__","sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
        clashes={"properties.action": "nulled"},
    ),
    # Rule: README.md, "Reading the raw logs" (declared types, verdicts, clashes).
    # A numeric userId is kept as its decimal text "12345".
    SpecCase(
        id="drift-userid-number",
        source="web",
        page="drift",
        line=(
            '{"type":"track","event":"Drift Checked","userId":12345,'
            '"messageId":"spec-drift-userid-number","timestamp":"__TIMESTAMP__",'
            '"sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
        clashes={"userId": "kept_as_text"},
    ),
    # Rule: README.md, "Reading the raw logs" (declared types, verdicts, clashes).
    # An id field holding an object.
    SpecCase(
        id="drift-anonymousid-object",
        source="web",
        page="drift",
        line=(
            '{"type":"track","event":"Drift Checked","anonymousId":{"id":"spec-anon-drift"},'
            '"messageId":"spec-drift-anonymousid-object","timestamp":"__TIMESTAMP__",'
            '"sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="invalid_id",
    ),
    # Rule: README.md, "Reading the raw logs" (declared types, verdicts, clashes).
    # An id field holding an array.
    SpecCase(
        id="drift-userid-array",
        source="web",
        page="drift",
        line=(
            '{"type":"track","event":"Drift Checked","anonymousId":"spec-anon-drift",'
            '"userId":["spec-user-drift"],"messageId":"spec-drift-userid-array",'
            '"timestamp":"__TIMESTAMP__","sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="invalid_id",
    ),
    # Rule: README.md, "Reading the raw logs" (declared types, verdicts, clashes).
    # groupId holding an object in a group call.
    SpecCase(
        id="drift-groupid-object",
        source="web",
        page="drift",
        line=(
            '{"type":"group","userId":"spec-user-drift","groupId":{"id":"acct_123"},'
            '"traits":{"name":"Initech"},"messageId":"spec-drift-groupid-object",'
            '"timestamp":"__TIMESTAMP__","sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="invalid_id",
    ),
    # Rule: README.md, "Reading the raw logs" (declared types, verdicts, clashes).
    # A numeric previousId in an alias call is kept as "424242".
    SpecCase(
        id="drift-previousid-number",
        source="web",
        page="drift",
        line=(
            '{"type":"alias","previousId":424242,"userId":"spec-user-drift",'
            '"messageId":"spec-drift-previousid-number","timestamp":"__TIMESTAMP__",'
            '"sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
        clashes={"previousId": "kept_as_text"},
    ),
    # Rule: README.md, "Reading the raw logs" (declared types, verdicts, clashes).
    # A boolean in an id field is nulled (only numbers are kept as text).
    SpecCase(
        id="drift-userid-true",
        source="web",
        page="drift",
        line=(
            '{"type":"track","event":"Drift Checked","anonymousId":"spec-anon-drift",'
            '"userId":true,"messageId":"spec-drift-userid-true","timestamp":"__TIMESTAMP__",'
            '"sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
        clashes={"userId": "nulled"},
    ),
    # Rule: README.md, "Reading the raw logs" (declared types, verdicts, clashes).
    # A number in the top-level string field event.
    SpecCase(
        id="drift-event-number",
        source="web",
        page="drift",
        line=(
            '{"type":"track","event":42,"anonymousId":"spec-anon-drift",'
            '"messageId":"spec-drift-event-number","timestamp":"__TIMESTAMP__",'
            '"sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
        clashes={"event": "nulled"},
    ),
    # Rule: README.md, "Reading the raw logs" (declared types, verdicts, clashes).
    # originalTimestamp not a time: nulled, the line is staged.
    SpecCase(
        id="drift-original-timestamp-text",
        source="web",
        page="drift",
        line=(
            '{"type":"track","event":"Drift Checked","anonymousId":"spec-anon-drift",'
            '"originalTimestamp":"yesterday","timestamp":"__TIMESTAMP__","sentAt":"__SENT_AT__",'
            '"receivedAt":"__RECEIVED_AT__","messageId":"spec-drift-original-timestamp-text"}'
        ),
        verdict="staged",
        clashes={"originalTimestamp": "nulled"},
    ),
    # Rule: README.md, "Reading the raw logs" (declared types, verdicts, clashes).
    # timestamp present but not a time.
    SpecCase(
        id="drift-timestamp-text",
        source="web",
        page="drift",
        line=(
            '{"type":"track","event":"Drift Checked","anonymousId":"spec-anon-drift",'
            '"timestamp":"yesterday","sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__",'
            '"messageId":"spec-drift-timestamp-text"}'
        ),
        verdict="invalid_timestamp",
    ),
    # Rule: README.md, "Reading the raw logs" (declared types, verdicts, clashes).
    # No receivedAt.
    SpecCase(
        id="drift-received-at-missing",
        source="web",
        page="drift",
        line=(
            '{"type":"track","event":"Drift Checked","anonymousId":"spec-anon-drift",'
            '"timestamp":"__TIMESTAMP__","sentAt":"__SENT_AT__",'
            '"messageId":"spec-drift-received-at-missing"}'
        ),
        verdict="missing_received_at",
    ),
    # Rule: README.md, "Reading the raw logs" (declared types, verdicts, clashes).
    # A string where a boolean is declared.
    SpecCase(
        id="drift-ua-mobile-text",
        source="web",
        page="drift",
        line=(
            '{"type":"page","name":"Home","anonymousId":"spec-anon-drift",'
            '"context":{"userAgentData":{"brands":[{"brand":"Chromium","version":"113"}],'
            '"mobile":"yes","platform":"macOS"}},"messageId":"spec-drift-ua-mobile-text",'
            '"timestamp":"__TIMESTAMP__","sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
        clashes={"context.userAgentData.mobile": "nulled"},
    ),
    # Rule: README.md, "Reading the raw logs" (declared types, verdicts, clashes).
    # properties not an object.
    SpecCase(
        id="drift-properties-string",
        source="web",
        page="drift",
        line=(
            '{"type":"track","event":"Drift Checked","anonymousId":"spec-anon-drift",'
            '"properties":"Drift","messageId":"spec-drift-properties-string",'
            '"timestamp":"__TIMESTAMP__","sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
        clashes={"properties": "nulled"},
    ),
    # Rule: README.md, "Reading the raw logs" (declared types, verdicts, clashes).
    # A string where array<string> is declared.
    SpecCase(
        id="drift-button-hospital-string",
        source="web",
        page="drift",
        line=(
            '{"type":"track","event":"Button Clicked","anonymousId":"spec-anon-drift",'
            '"properties":{"button":{"name":"Book","hospital":"H001"}},'
            '"messageId":"spec-drift-button-hospital-string","timestamp":"__TIMESTAMP__",'
            '"sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
        clashes={"properties.button.hospital": "nulled"},
    ),
    # Rule: README.md, "Reading the raw logs" (declared types, verdicts, clashes).
    # context.page a string where an object (path, url, ...) is declared.
    SpecCase(
        id="drift-context-page-string",
        source="web",
        page="drift",
        line=(
            '{"type":"page","name":"Home","anonymousId":"spec-anon-drift",'
            '"context":{"page":"/academy/"},"messageId":"spec-drift-context-page-string",'
            '"timestamp":"__TIMESTAMP__","sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
        clashes={"context.page": "nulled"},
    ),
    # Rule: README.md, "Reading the raw logs" (declared types, verdicts, clashes).
    # Not one of the six calls.
    SpecCase(
        id="drift-type-unknown",
        source="web",
        page="drift",
        line=(
            '{"type":"frobnicate","event":"Drift Checked","anonymousId":"spec-anon-drift",'
            '"messageId":"spec-drift-type-unknown","timestamp":"__TIMESTAMP__",'
            '"sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="unknown_type",
    ),
    # Rule: README.md, "Reading the raw logs" (declared types, verdicts, clashes).
    # A non-string type counts as unknown_type.
    SpecCase(
        id="drift-type-number",
        source="web",
        page="drift",
        line=(
            '{"type":7,"event":"Drift Checked","anonymousId":"spec-anon-drift",'
            '"messageId":"spec-drift-type-number","timestamp":"__TIMESTAMP__",'
            '"sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="unknown_type",
    ),
    # Rule: README.md, "Reading the raw logs" (declared types, verdicts, clashes).
    # A numeric messageId (no other case uses 98765) is kept as "98765".
    SpecCase(
        id="drift-messageid-number",
        source="web",
        page="drift",
        line=(
            '{"type":"track","event":"Drift Checked","anonymousId":"spec-anon-drift",'
            '"messageId":98765,"timestamp":"__TIMESTAMP__","sentAt":"__SENT_AT__",'
            '"receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
        clashes={"messageId": "kept_as_text"},
    ),
    # Rule: README.md, "Reading the raw logs" (declared types, verdicts, clashes).
    # The anonymous page view (no userId) that drift-alias-merge links: anonymousId
    # "spec-anon-alias" appears only here and as its previousId.
    SpecCase(
        id="drift-alias-page",
        source="web",
        page="drift",
        line=(
            '{"type":"page","name":"Home","anonymousId":"spec-anon-alias",'
            '"properties":{"path":"/academy/"},"messageId":"spec-drift-alias-page",'
            '"timestamp":"__TIMESTAMP__","sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
    ),
    # Rule: README.md, "Reading the raw logs" (declared types, verdicts, clashes).
    # Alias: previousId = the anonymousId of drift-alias-page, userId new ("spec-user-alias").
    SpecCase(
        id="drift-alias-merge",
        source="web",
        page="drift",
        line=(
            '{"type":"alias","previousId":"spec-anon-alias","userId":"spec-user-alias",'
            '"messageId":"spec-drift-alias-merge","timestamp":"__TIMESTAMP__",'
            '"sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
    ),
    # Rule: README.md, "Reading the raw logs" (declared types, verdicts, clashes).
    # A group call with groupId and traits (traits.customerId is declared).
    SpecCase(
        id="drift-group-traits",
        source="web",
        page="drift",
        line=(
            '{"type":"group","userId":"spec-user-alias","groupId":"spec-group-drift",'
            '"traits":{"name":"Initech","customerId":"C-1001"},'
            '"messageId":"spec-drift-group-traits","timestamp":"__TIMESTAMP__",'
            '"sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
    ),
    # Rule: README.md, "Reading the raw logs" (declared types, verdicts, clashes).
    # A string where bigint is declared.
    SpecCase(
        id="drift-amplitude-session-text",
        source="procedure",
        page="drift",
        line=(
            '{"type":"page","name":"Home","anonymousId":"spec-anon-drift",'
            '"integrations":{"Actions Amplitude":{"session_id":"abc"}},'
            '"messageId":"spec-drift-amplitude-session-text","timestamp":"__TIMESTAMP__",'
            '"sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
        clashes={"integrations.Actions Amplitude.session_id": "nulled"},
    ),
    # Rule: README.md, "Reading the raw logs" (declared types, verdicts, clashes).
    # The declared bigint as a number: fine.
    SpecCase(
        id="drift-amplitude-session-number",
        source="procedure",
        page="drift",
        line=(
            '{"type":"page","name":"Home","anonymousId":"spec-anon-drift",'
            '"integrations":{"Actions Amplitude":{"session_id":1699401600000}},'
            '"messageId":"spec-drift-amplitude-session-number","timestamp":"__TIMESTAMP__",'
            '"sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="staged",
    ),
    # Rule: README.md, "What quarantines a line": a call without a type is no event.
    SpecCase(
        id="drift-type-missing",
        source="app",
        page="drift",
        line=(
            '{"event":"Drift Checked","anonymousId":"spec-anon-drift",'
            '"messageId":"spec-drift-type-missing","timestamp":"__TIMESTAMP__",'
            '"sentAt":"__SENT_AT__","receivedAt":"__RECEIVED_AT__"}'
        ),
        verdict="missing_type",
    ),
    # Rule: README.md, "What quarantines a line": receivedAt present but not a time.
    SpecCase(
        id="drift-received-at-not-a-time",
        source="procedure",
        page="drift",
        line=(
            '{"type":"track","event":"Drift Checked","anonymousId":"spec-anon-drift",'
            '"messageId":"spec-drift-received-at-not-a-time","timestamp":"__TIMESTAMP__",'
            '"sentAt":"__SENT_AT__","receivedAt":"yesterday"}'
        ),
        verdict="invalid_received_at",
    ),
]


def _iso(t: datetime.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def lines_for(day: datetime.date) -> dict[str, list[str]]:
    """Each source's lines for `day`, in CASES order, with the time placeholders filled in.

    The i-th case of CASES (0-based, over all sources) gets `day` 03:00:00 UTC + i seconds as
    timestamp / originalTimestamp, sentAt 1 s later and receivedAt 2 s later.
    """
    base = datetime.datetime(day.year, day.month, day.day, 3, 0, 0, tzinfo=datetime.timezone.utc)
    out: dict[str, list[str]] = {source: [] for source in SOURCES}
    for i, case in enumerate(CASES):
        at = base + datetime.timedelta(seconds=i)
        line = (
            case.line.replace(TIMESTAMP, _iso(at))
            .replace(SENT_AT, _iso(at + datetime.timedelta(seconds=1)))
            .replace(RECEIVED_AT, _iso(at + datetime.timedelta(seconds=2)))
        )
        out[case.source].append(line)
    return out
