"""Presigned S3 PUT URLs that also sign request headers, so the store itself enforces them.

The `minio` SDK presigns only the `host` header. `sign_headers` takes such a URL (AWS Signature V4, query form)
and signs it again with extra headers as well; S3 then refuses a PUT without exactly those header values
(SignatureDoesNotMatch). The upload URL signs `x-amz-checksum-sha256` (S3 rejects a body whose sha256 differs,
BadDigest) and `if-none-match: *` (S3 rejects a PUT over an existing key, 412 PreconditionFailed). Signing
follows the SigV4 rules the SDK uses (canonical request, string to sign, derived key); with no extra headers it
reproduces the SDK's signature exactly, which the tests check.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit, urlunsplit


def checksum_header(sha256_hex: str) -> str:
    """The `x-amz-checksum-sha256` value for a hex digest: the digest's bytes in base64."""
    return base64.b64encode(bytes.fromhex(sha256_hex)).decode()


def upload_headers(sha256_hex: str) -> dict[str, str]:
    """Headers a presigned upload of these bytes must carry: the checksum, and no overwriting of a stored key."""
    return {"x-amz-checksum-sha256": checksum_header(sha256_hex), "if-none-match": "*"}


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def sign_headers(url: str, secret_key: str, headers: Mapping[str, str], method: str = "PUT") -> str:
    """`url` (a SigV4 presigned URL signing `host` only) signed again so it also signs `headers`."""
    parts = urlsplit(url)
    pairs = [pair.split("=", 1) for pair in parts.query.split("&") if pair]
    query = {name: value for name, value in pairs if name != "X-Amz-Signature"}
    signed = {"host": parts.netloc, **{name.lower(): value.strip() for name, value in headers.items()}}
    names = sorted(signed)
    query["X-Amz-SignedHeaders"] = "%3B".join(names)  # ';' as the SDK's query encoding writes it
    canonical_query = "&".join("=".join(pair) for pair in sorted(query.items()))
    canonical_headers = "\n".join(f"{name}:{signed[name]}" for name in names)
    canonical_request = "\n".join([method, parts.path or "/", canonical_query, canonical_headers, "",
                                   ";".join(names), "UNSIGNED-PAYLOAD"])
    amz_date = query["X-Amz-Date"]
    scope = unquote(query["X-Amz-Credential"]).split("/", 1)[1]  # date/region/s3/aws4_request
    date, region, service, _ = scope.split("/")
    string_to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                                hashlib.sha256(canonical_request.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret_key}".encode(), date), region), service), "aws4_request")
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return urlunsplit(parts._replace(query=f"{canonical_query}&X-Amz-Signature={signature}"))
