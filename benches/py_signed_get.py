#!/usr/bin/env python3
"""Minimal signed GET against the OTC simulator, Python standard library only.

The baseline of the `api GET` comparison in benches/certbot_runs.rs:

    python3 benches/py_signed_get.py http://127.0.0.1:PORT /v2/zones

Fetches temporary credentials from BASE/openstack/latest/securitykey, sends
one SDK-HMAC-SHA256 signed GET (otc-api.md section 1) and prints the body.
Exits 0 only on HTTP 200. Loopback plain HTTP only: that is all the
benchmark needs.
"""

import datetime
import hashlib
import hmac
import http.client
import json
import sys
import urllib.parse

SAFE = "-_.~"  # plus A-Za-z0-9, which quote() always keeps


def enc(s):
    return urllib.parse.quote(s, safe=SAFE)


def canonical_uri(path):
    segments = [enc(urllib.parse.unquote(seg)) for seg in path.split("/")]
    uri = "/".join(segments)
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(query):
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    return "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(pairs))


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: py_signed_get.py BASE_URL /PATH[?QUERY]\n")
        return 2
    base = urllib.parse.urlsplit(sys.argv[1])
    if base.scheme != "http":
        sys.stderr.write("only http:// (loopback) is supported\n")
        return 2
    target = urllib.parse.urlsplit(sys.argv[2])
    host = base.netloc  # host:port, signed exactly as sent

    conn = http.client.HTTPConnection(base.hostname, base.port or 80, timeout=10)
    conn.request("GET", "/openstack/latest/securitykey")
    resp = conn.getresponse()
    doc = resp.read()
    if resp.status != 200:
        sys.stderr.write(f"metadata: HTTP {resp.status}\n")
        return 1
    cred = json.loads(doc)["credential"]

    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    headers = {
        "host": host,
        "x-sdk-date": date,
        "x-security-token": cred["securitytoken"],
    }
    signed = ";".join(sorted(headers))
    canonical = "\n".join(
        [
            "GET",
            canonical_uri(target.path),
            canonical_query(target.query),
            "".join(f"{k}:{headers[k].strip()}\n" for k in sorted(headers)),
            signed,
            hashlib.sha256(b"").hexdigest(),
        ]
    )
    to_sign = "SDK-HMAC-SHA256\n{}\n{}".format(
        date, hashlib.sha256(canonical.encode()).hexdigest()
    )
    signature = hmac.new(
        cred["secret"].encode(), to_sign.encode(), hashlib.sha256
    ).hexdigest()

    query = canonical_query(target.query)
    path = target.path + ("?" + query if query else "")
    conn.request(
        "GET",
        path,
        headers={
            "Host": host,
            "X-Sdk-Date": date,
            "X-Security-Token": cred["securitytoken"],
            "Authorization": "SDK-HMAC-SHA256 Access={}, SignedHeaders={}, Signature={}".format(
                cred["access"], signed, signature
            ),
        },
    )
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    if resp.status != 200:
        sys.stderr.write(f"GET {target.path}: HTTP {resp.status}: {body[:300]!r}\n")
        return 1
    sys.stdout.write(body.decode("utf-8", "replace") + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
