"""Which AWS calls each role made in the rehearsal, and whether its policy in docs/iam/ grants them.

moto enforces no IAM (and its optional check ignores resources and conditions), so the rehearsal
records every request moto gets (moto's own recorder), tells the roles apart by their access key
ids, and turns each request into what IAM authorises: an action, a resource ARN and the condition
keys the request sets (``s3:prefix`` of a listing, ``iam:PassedToService`` of the role a job is
started with). ``granted`` then evaluates the role's policy as IAM does for the parts our policies
use: Allow and Deny statements, Action and Resource with ``*``/``?`` wildcards, and the condition
operators StringEquals, StringLike, ArnEquals and ArnLike (a key the request does not set fails
the condition, as in IAM). Another operator in a policy is refused, never silently passed.

The IAM actions of S3's API calls are not the calls' names (ListObjectsV2 is s3:ListBucket, a
HEAD of an object is s3:GetObject): _s3_calls follows the "Permissions" part of each call's page
in the Amazon S3 API Reference (docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html,
API_ListObjectsV2.html, …). Other services' actions are their operation names, as the Service
Authorization Reference lists them (service-authorization/latest/reference/list_emr-serverless.html:
StartApplication is emr-serverless:StartApplication on the application's ARN), found from
botocore's service models.

Why our own evaluator: no maintained Python library evaluates an IAM policy against a request
offline (policyuniverse and parliament read policies, AWS's simulator is an API call).
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import parse_qs, unquote, urlparse

IAM_DIR = Path(__file__).resolve().parents[2] / "docs" / "iam"
POLICIES = {"airflow": "airflow-worker-role.json", "emr-job": "emr-job-role.json"}
CONDITION_OPERATORS = {"StringEquals", "StringLike", "ArnEquals", "ArnLike"}


@dataclass(frozen=True)
class Call:
    role: str
    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = field(default=())
    request: str = ""

    def __str__(self) -> str:
        ctx = "".join(f" [{k}={v!r}]" for k, v in self.context)
        return f"{self.action} on {self.resource}{ctx} ({self.request})"


# -- requests -> calls ---------------------------------------------------------------------------------
def _s3_calls(method: str, path: str, query: dict[str, list[str]], body: bytes) -> list[tuple[str, str, tuple]]:
    bucket, _, key = unquote(path).lstrip("/").partition("/")
    if not key:
        arn = f"arn:aws:s3:::{bucket}"
        if method == "POST" and "delete" in query:  # DeleteObjects: s3:DeleteObject on each key
            keys = re.findall(rb"<Key>([^<]+)</Key>", body)
            return [("s3:DeleteObject", f"{arn}/{k.decode()}", ()) for k in keys]
        if method == "PUT":
            return [("s3:CreateBucket", arn, ())]
        if "location" in query:
            return [("s3:GetBucketLocation", arn, ())]
        if "uploads" in query:
            return [("s3:ListBucketMultipartUploads", arn, ())]
        if "versions" in query:
            return [("s3:ListBucketVersions", arn, ())]
        # ListObjects(V2) and HeadBucket: s3:ListBucket, with s3:prefix only when the request sets one
        ctx = (("s3:prefix", query["prefix"][0]),) if "prefix" in query else ()
        return [("s3:ListBucket", arn, ctx)]
    arn = f"arn:aws:s3:::{bucket}/{key}"
    if method in ("GET", "HEAD"):
        return [("s3:GetObject", arn, ())]
    if method in ("PUT", "POST"):  # PutObject, CreateMultipartUpload, UploadPart, CompleteMultipartUpload
        return [("s3:PutObject", arn, ())]
    if method == "DELETE":
        return [("s3:AbortMultipartUpload" if "uploadId" in query else "s3:DeleteObject", arn, ())]
    raise ValueError(f"an S3 request the permission check does not know: {method} {path}")


def _rest_operation(service: str, method: str, path: str) -> tuple[str, dict[str, str]]:
    """The botocore operation of a REST request, and its URI's parameters."""
    import botocore.session

    model = botocore.session.get_session().get_service_model(service)
    best: tuple[int, str, dict[str, str]] | None = None
    for name in model.operation_names:
        http = model.operation_model(name).http
        if http.get("method") != method:
            continue
        template = http["requestUri"].split("?")[0]
        pattern = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", re.escape(template))
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", pattern)
        found = re.fullmatch(pattern, path)
        if found and (best is None or len(template) > best[0]):
            best = (len(template), name, found.groupdict())
    if best is None:
        raise ValueError(f"no {service} operation answers {method} {path}")
    return best[1], best[2]


def _service_calls(service: str, method: str, path: str, headers: dict[str, str], body: bytes, region: str,
                   account: str) -> list[tuple[str, str, tuple]]:
    target = headers.get("X-Amz-Target") or headers.get("x-amz-target")
    if target:  # JSON protocol: the operation is named in the header
        return [(f"{service}:{target.split('.')[-1]}", "*", ())]
    operation, params = _rest_operation(service, method, path)
    calls = []
    if service == "emr-serverless":
        resource = f"arn:aws:emr-serverless:{region}:{account}:/applications"
        if "applicationId" in params:
            resource += f"/{params['applicationId']}"
            if "jobRunId" in params:
                resource += f"/jobruns/{params['jobRunId']}"
        else:
            resource += "/*"
        calls.append((f"emr-serverless:{operation}", resource, ()))
        if operation == "StartJobRun":  # passing the job role is iam:PassRole on it, to EMR Serverless
            role = json.loads(body or b"{}").get("executionRoleArn", "")
            calls.append(("iam:PassRole", role, (("iam:PassedToService", "emr-serverless.amazonaws.com"),)))
        return calls
    return [(f"{service}:{operation}", "*", ())]


def calls_from_recording(lines: Iterable[str], roles: dict[str, str], region: str, account: str) -> list[Call]:
    """moto's recording (one JSON request a line) as calls, each by the role of its access key
    (requests signed by a key not in ``roles`` are left out)."""
    out: list[Call] = []
    for line in lines:
        entry = json.loads(line)
        headers = entry["headers"]
        auth = headers.get("Authorization") or headers.get("authorization") or ""
        found = re.search(r"Credential=([A-Z0-9]+)/\d{8}/[^/]+/([^/]+)/aws4_request", auth)
        if not found or found.group(1) not in roles:
            continue
        role, service = roles[found.group(1)], found.group(2)
        url = urlparse(entry["url"])
        query = parse_qs(url.query, keep_blank_values=True)
        body = base64.b64decode(entry["body"]) if entry.get("body_encoded") else (entry.get("body") or "").encode()
        method = entry["method"]
        if service == "s3":
            found_calls = _s3_calls(method, url.path, query, body)
        else:
            found_calls = _service_calls(service, method, url.path, headers, body, region, account)
        request = f"{method} {url.path}" + (f"?{url.query}" if url.query else "")
        out += [Call(role, action, resource, ctx, request) for action, resource, ctx in found_calls]
    return out


# -- policies ------------------------------------------------------------------------------------------
def load_policy(role: str, values: dict[str, str]) -> dict[str, Any]:
    """docs/iam/<role's file> with its <placeholders> filled in; an unfilled one is an error."""
    text = (IAM_DIR / POLICIES[role]).read_text()
    for name, value in values.items():
        text = text.replace(f"<{name}>", value)
    left = sorted(set(re.findall(r"<[a-z-]+>", text)))
    if left:
        raise ValueError(f"{POLICIES[role]}: no value for {', '.join(left)}")
    return json.loads(text)


def _listed(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


def _condition_holds(conditions: dict[str, dict[str, Any]], context: dict[str, str]) -> bool:
    for operator, tests in conditions.items():
        if operator not in CONDITION_OPERATORS:
            raise ValueError(f"condition operator {operator} is not evaluated here: extend permissions.py")
        for key, wanted in tests.items():
            if key not in context:
                return False
            got = context[key]
            like = operator.endswith("Like")
            if not any(fnmatchcase(got, w) if like else got == w for w in _listed(wanted)):
                return False
    return True


def granted(policy: dict[str, Any], call: Call) -> bool:
    """Does the policy allow the call (an explicit Deny wins)?"""
    context = dict(call.context)
    allowed = False
    for statement in _listed(policy["Statement"]):
        if not any(fnmatchcase(call.action.lower(), a.lower()) for a in _listed(statement["Action"])):
            continue
        if not any(fnmatchcase(call.resource, r) for r in _listed(statement.get("Resource", "*"))):
            continue
        if not _condition_holds(statement.get("Condition", {}), context):
            continue
        if statement["Effect"] == "Deny":
            return False
        allowed = True
    return allowed


def ungranted(calls: Iterable[Call], policies: dict[str, dict[str, Any]]) -> list[Call]:
    """The calls their role's policy does not allow (each distinct call once)."""
    return sorted({c for c in calls if c.role in policies and not granted(policies[c.role], c)}, key=str)
