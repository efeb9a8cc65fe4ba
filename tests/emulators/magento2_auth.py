"""Magento 2 authentication for the emulator: admin tokens (with 2FA and the
brute-force lock), integration tokens as Bearer, OAuth 1.0a request signing,
and the ACL check.  See shared/spec/magento2-api.md section 2.

OAuth 1.0a is verified the way Magento 2.4 does it (Framework\\Oauth\\Oauth,
Helper\\Request, Helper\\Signature\\Hmac, Integration\\...\\Nonce\\Generator):

  * protocol parameters come from the `Authorization: OAuth ...` header
    (`k="v"` pairs, rawurldecoded); JSON bodies are not signed, form bodies
    are; query parameters are split on `&` and `=` and rawurldecoded (a `+`
    stays a `+`), pairs without exactly one `=` and oauth_* names are skipped;
  * base string = METHOD & enc(scheme://host[:port]/path) & enc(params sorted
    by decoded name, each enc(name)=enc(value), joined by &), enc = RFC 3986
    percent-encoding (PHP rawurlencode); key = enc(consumer secret) &
    enc(token secret); HMAC-SHA256 only (2.4.4+);
  * checks, in Magento's order: oauth_version (if present) == 1.0 -> 400;
    required parameters -> 400; oauth_token length 32 -> 400; signature method
    -> 400; consumer key (length 32, known) -> 401; timestamp > 0 and not more
    than 600 s ahead of the clock (old timestamps are NOT refused) -> 400;
    nonce unused for the consumer -> 401 (the nonce is recorded before the
    signature is checked, so a request with a bad signature burns its nonce);
    token known and belonging to the consumer -> 401; signature -> 401.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import struct
import urllib.parse

from magento2_errors import (BAD_LOGIN, TFA_USE_PROVIDER, MagentoError, input_errors, not_authorized,
                             REQUIRED)

ADMIN_TOKEN_LIFETIME = 4 * 3600  # oauth/access_token_expiration_period/admin = 4 h
LOCK_MAX_FAILURES = 6  # oauth/authentication_lock/max_failures_count
LOCK_SECONDS = 1800  # oauth/authentication_lock/timeout
NONCE_TIME_DEVIATION = 600  # Nonce\Generator::TIME_DEVIATION
OAUTH_REQUIRED = ("oauth_consumer_key", "oauth_signature", "oauth_signature_method", "oauth_nonce",
                  "oauth_timestamp", "oauth_token")
SUPPORTED_SIGNATURE_METHODS = ("HMAC-SHA256",)
_PROTOCOL_PARAM = re.compile(r"oauth_[a-z_-]+")


def rawurlencode(text):
    """PHP rawurlencode: RFC 3986, only A-Z a-z 0-9 - _ . ~ stay as they are."""
    return urllib.parse.quote(text, safe="~")


def rawurldecode(text):
    """PHP rawurldecode: %XX only; `+` stays `+`."""
    return urllib.parse.unquote(text)


class Caller:
    """Who sent a request: kind is "admin", "integration" or "guest"."""

    def __init__(self, kind, resources=None, name=None):
        self.kind = kind
        self.resources = resources  # None = every resource
        self.name = name

    def allowed(self, needed):
        if self.kind == "admin":
            return True
        if self.kind == "guest":
            return False
        return self.resources is None or all(r in self.resources for r in needed)


class Integration:
    """The one activated integration (consumer id 1)."""

    def __init__(self, consumer_key, consumer_secret, access_token, access_token_secret, resources=None):
        self.consumer_id = 1
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.access_token = access_token
        self.access_token_secret = access_token_secret
        self.resources = resources


class Auth:
    """Tokens, nonces and login failures of one emulator instance."""

    def __init__(self, clock, admin_user, admin_password, integration, bearer=False, tfa=False,
                 tfa_secret="JBSWY3DPEHPK3PXP"):
        self.clock = clock
        self.admin_user = admin_user
        self.admin_password = admin_password
        self.integration = integration
        self.bearer = bearer
        self.tfa = tfa
        self.tfa_secret = tfa_secret
        self.reset()

    def reset(self):
        self.admin_tokens = {}  # token -> issued at (epoch)
        self.nonces = set()  # (consumer id, nonce)
        self.failures = {}  # username -> (count, locked until)

    def describe(self):
        now = self.clock.now()
        return {
            "admin_tokens": sum(1 for t in self.admin_tokens.values() if now - t < ADMIN_TOKEN_LIFETIME),
            "nonces_used": len(self.nonces),
            "bearer_integration_tokens": self.bearer,
            "tfa": self.tfa,
            "locked_users": sorted(u for u, (_, until) in self.failures.items() if until > now),
        }

    # ---- admin token -----------------------------------------------------------
    def create_admin_token(self, body, tfa_otp=None):
        """POST /V1/integration/admin/token (and the 2FA provider endpoint)."""
        body = body if isinstance(body, dict) else {}
        username, password = body.get("username"), body.get("password")
        missing = [(REQUIRED, {"fieldName": name}) for name, value in (("username", username), ("password", password))
                   if not isinstance(value, str) or value == ""]
        if missing:
            raise input_errors(400, missing)
        self._check_lock(username)
        if username != self.admin_user or password != self.admin_password:
            self._record_failure(username)
            raise MagentoError(401, BAD_LOGIN)
        self.failures.pop(username, None)
        if self.tfa and tfa_otp is None:
            # Magento_TwoFactorAuth: valid credentials, but no token this way
            raise MagentoError(401, TFA_USE_PROVIDER, {"active_providers": ["google"]})
        if tfa_otp is not None and not self.totp_ok(str(tfa_otp)):
            raise MagentoError(401, "Invalid code.")
        return self._issue_admin_token()

    def _check_lock(self, username):
        count, until = self.failures.get(username, (0, 0))
        if count >= LOCK_MAX_FAILURES and until > self.clock.now():
            raise MagentoError(401, BAD_LOGIN)
        if count >= LOCK_MAX_FAILURES:
            self.failures.pop(username, None)  # the lock has expired

    def _record_failure(self, username):
        count, _ = self.failures.get(username, (0, 0))
        count += 1
        until = self.clock.now() + LOCK_SECONDS if count >= LOCK_MAX_FAILURES else 0
        self.failures[username] = (count, until)

    def _issue_admin_token(self):
        now = int(self.clock.now())

        def b64(data):
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")

        # since 2.4.4 admin tokens are JWTs; clients must treat them as opaque
        header = b64(json.dumps({"kid": "1", "alg": "HS256"}).encode())
        payload = b64(json.dumps({"uid": 1, "utypid": 2, "iat": now, "exp": now + ADMIN_TOKEN_LIFETIME,
                                  "jti": os.urandom(8).hex()}).encode())
        signature = b64(hmac.new(b"ferry-emulator", (header + "." + payload).encode(), hashlib.sha256).digest())
        token = "%s.%s.%s" % (header, payload, signature)
        self.admin_tokens[token] = now
        return token

    def totp_ok(self, otp):
        """RFC 6238 (SHA-1, 30 s, 6 digits) on the emulator clock, +-1 step."""
        try:
            key = base64.b32decode(self.tfa_secret.upper() + "=" * (-len(self.tfa_secret) % 8))
        except (ValueError, TypeError):
            return False
        step = int(self.clock.now()) // 30
        return any(totp(key, step + d) == otp for d in (-1, 0, 1))

    # ---- identifying the caller ---------------------------------------------------
    def identify(self, req, host):
        """The Caller of a request; OAuth problems raise MagentoError."""
        header = req.header("Authorization") or ""
        if "oauth " in header.lower():
            self.verify_oauth(req, host, header)
            return Caller("integration", self.integration.resources, "oauth")
        pieces = header.split(" ")
        if len(pieces) == 2 and pieces[0].lower() == "bearer":
            return self._bearer(pieces[1])
        return Caller("guest")

    def _bearer(self, token):
        issued = self.admin_tokens.get(token)
        if issued is not None:
            if self.clock.now() - issued < ADMIN_TOKEN_LIFETIME:
                return Caller("admin", name="admin-token")
            return Caller("guest")  # expired: Magento just sees no user
        if token == self.integration.access_token and self.bearer:
            return Caller("integration", self.integration.resources, "bearer")
        # an integration token without enable_integration_as_bearer, or an
        # unknown token: no user, hence the misleading ACL message later
        return Caller("guest")

    # ---- OAuth 1.0a ---------------------------------------------------------------
    def verify_oauth(self, req, host, header):
        params = oauth_header_params(header)
        ctype = req.header("Content-Type") or ""
        if req.body and ctype.lower().startswith("application/x-www-form-urlencoded"):
            for name, value in urllib.parse.parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True):
                if not _PROTOCOL_PARAM.search(name):
                    params[name] = value
        query = req.raw_path.partition("?")[2]
        params.update(query_signing_params(query))
        self._check_protocol(params)
        url = signature_base_url("http", host, req.raw_path.partition("?")[0])
        signed = {k: v for k, v in params.items() if k != "oauth_signature"}
        expected = oauth_signature(req.method, url, signed, self.integration.consumer_secret,
                                   self.integration.access_token_secret)
        if not hmac.compare_digest(expected, params["oauth_signature"]):
            raise MagentoError(401, "The signature is invalid. Verify and try again.")

    def _check_protocol(self, params):
        if "oauth_version" in params and params["oauth_version"] != "1.0":
            raise MagentoError(400, 'The "%1" Oauth version isn\'t supported.', [params["oauth_version"]])
        missing = [(REQUIRED, {"fieldName": name}) for name in OAUTH_REQUIRED if name not in params]
        if missing:
            raise input_errors(400, missing)
        if len(params["oauth_token"]) != 32:
            raise MagentoError(400, "The token length is invalid. Check the length and try again.")
        if params["oauth_signature_method"] not in SUPPORTED_SIGNATURE_METHODS:
            raise MagentoError(400, "Signature method %1 is not supported", [params["oauth_signature_method"]])
        integ = self.integration
        if len(params["oauth_consumer_key"]) != 32:
            raise MagentoError(401, "Consumer key is not the correct length")
        if params["oauth_consumer_key"] != integ.consumer_key:
            raise MagentoError(401, "A consumer having the specified key does not exist")
        timestamp = php_int(params["oauth_timestamp"])
        if timestamp <= 0 or timestamp > self.clock.now() + NONCE_TIME_DEVIATION:
            raise MagentoError(400, "Incorrect timestamp value in the oauth_timestamp parameter")
        key = (integ.consumer_id, params["oauth_nonce"])
        if key in self.nonces:
            raise MagentoError(401, "The nonce is already being used by the consumer with ID %1",
                               [str(integ.consumer_id)])
        self.nonces.add(key)
        if params["oauth_token"] != integ.access_token:
            raise MagentoError(401, "Specified token does not exist")


def php_int(text):
    """PHP's (int) cast of a string: the leading integer, else 0."""
    m = re.match(r"\s*([+-]?\d+)", str(text))
    return int(m.group(1)) if m else 0


def oauth_header_params(header):
    """oauth_* pairs of an `Authorization: OAuth ...` header (Helper\\Request::_processHeader)."""
    params = {}
    position = header.lower().find("oauth ")
    if position < 0:
        return params
    for piece in header[position + 6:].split(","):
        name, sep, value = piece.strip().partition("=")
        if not sep:
            continue
        if _PROTOCOL_PARAM.search(name):
            params[rawurldecode(name)] = rawurldecode(value.strip('"'))
    return params


def query_signing_params(query):
    """Query parameters as Magento signs them (Helper\\Request::_extractQueryStringParams)."""
    params = {}
    if not query:
        return params
    for piece in query.split("&"):
        parts = piece.split("=")
        if len(parts) == 2 and not _PROTOCOL_PARAM.search(parts[0]):
            params[rawurldecode(parts[0])] = rawurldecode(parts[1])
    return params


def signature_base_url(scheme, host, path):
    scheme = scheme.lower()
    host = host.lower()
    if scheme == "http" and host.endswith(":80"):
        host = host[:-3]
    elif scheme == "https" and host.endswith(":443"):
        host = host[:-4]
    return "%s://%s%s" % (scheme, host, path)


def signature_base_string(method, url, params):
    normalized = "&".join("%s=%s" % (rawurlencode(k), rawurlencode(params[k])) for k in sorted(params))
    return "&".join((method.upper(), rawurlencode(url), rawurlencode(normalized)))


def oauth_signature(method, url, params, consumer_secret, token_secret):
    key = "%s&%s" % (rawurlencode(consumer_secret), rawurlencode(token_secret))
    base = signature_base_string(method, url, params)
    digest = hmac.new(key.encode("utf-8"), base.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def totp(key, step, digits=6):
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return "%0*d" % (digits, code)


def check_acl(caller, resources):
    """Raise Magento's 401 unless the caller may use every resource of the route."""
    if resources == ("anonymous",):
        return
    if not caller.allowed(resources):
        raise not_authorized(resources)
