"""Secrets out of messages: what the loader (and the CLI) prints or writes to JSON goes through
``redact`` first, so a driver's error that echoes a connection string, a password or an AWS
key does not put it into a log, a Slack alert or load_results.json.

Written here, not taken from a library: the scanners (detect-secrets) find secrets in files,
they do not rewrite text; the rules are few and ours (which env vars hold secrets).
"""

from __future__ import annotations

import os
import re

MASK = "***"

# Env vars whose values are secrets wherever they appear (profiles.yml reads them, boto3 and
# psycopg read them): their literal values are masked in any message.
SECRET_ENV_VARS = ("PGPASSWORD", "REDSHIFT_PASSWORD", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                   "SLACK_WEBHOOK_URL", "SEGLOG_SLACK_WEBHOOK")

# A key whose value is a secret: password, pwd, secret, token, api key, and any name ending in
# one of them (client_secret, aws_session_token, x-api-key, sslpassword).
_SECRET_KEY = r"[\w.-]*?(?:password|passwd|pwd|secret|token|api[_-]?key|secret[_-]?access[_-]?key)"

_PATTERNS = [
    # an HTTP Authorization header's credentials (Bearer token, Basic user:password), first: a
    # key such as access_token: may hold one, and must not mask "Bearer" alone
    (re.compile(r"(?P<pre>\b(?:Bearer|Basic)\s+)[A-Za-z0-9._~+/=-]+", re.I), r"\g<pre>" + MASK),
    # key=value / key: value in a libpq conninfo, a JDBC URL, a config dump, a dict's repr: a
    # quoted value whole (spaces and all, and a quote or backslash escaped with a backslash, as
    # libpq's conninfo writes them: https://www.postgresql.org/docs/15/libpq-connect.html#LIBPQ-CONNSTRING),
    # else everything up to the next space or quote (a password may hold ; & , or ), so those end nothing)
    (re.compile(r"(?P<pre>(?<![\w-])" + _SECRET_KEY
                + r"['\"]?\s*[=:]\s*)(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\s'\"]+)", re.I),
     r"\g<pre>" + MASK),
    # scheme://user:password@host, the user possibly empty (redis://:pw@host): postgresql://,  # pragma: allowlist secret
    # jdbc:redshift://, https://. Up to the token's last @, so a password that holds an @ is
    # masked whole (after key=value, so that a PWD= holding an @ is masked by its key, not cut
    # at its @ here).  # pragma: allowlist secret
    (re.compile(r"(?P<pre>[a-z][a-z0-9+.:-]*://[^\s:/@'\"]*:)[^\s'\"]+(?=@)", re.I), r"\g<pre>" + MASK),
    # an AWS access key id
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), MASK),
]


def redact(text: str, env: dict[str, str] | None = None) -> str:
    """``text`` with connection-string passwords, key=value secrets, AWS key ids and the values of
    the secret env vars replaced by ***."""
    env = os.environ if env is None else env
    out = text
    for name in SECRET_ENV_VARS:
        value = env.get(name, "")
        if len(value) >= 4:  # a short value (or none) would mask ordinary words
            out = out.replace(value, MASK)
    for pattern, repl in _PATTERNS:
        out = pattern.sub(repl, out)
    return out
