"""What every request and response goes through: security headers, the upload size limit, the
rate limit, cookies, and the CSRF and origin checks of form posts.

- Headers: a Content-Security-Policy that allows the page's own stylesheet and nothing else (no
  script at all), no framing, no referrer to other sites (personal links carry tokens; within
  the site browsers then send the Origin header that the form check reads), no MIME sniffing.
  Responses that set their own policy (the sandboxed feedback) keep it.
- Size: a request body larger than the upload limit is refused with 413 before it is read (by
  its Content-Length) or as soon as it passes the limit (a chunked one).
- Rate: a token bucket per credential (the session cookie or the bearer token) and a larger one
  per address; a request past either gets 429 with Retry-After. Static files are exempt.
- Cookies: HttpOnly, SameSite=Lax, Secure behind https; forms carry a CSRF token that is
  compared in constant time, and a form post from another origin is refused.
"""

from __future__ import annotations

import hashlib
import math
import secrets

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from autograder.serve.ratelimit import Buckets
from autograder.serve.tokens import Sessions

#: The policy of every page: its own stylesheet, its own frames (the feedback), no script.
PAGE_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
               "frame-src 'self'; frame-ancestors 'none'; base-uri 'none'")

#: The policy of nbgrader's feedback page and the class report: they hold the student's own
#: outputs, so they run sandboxed (a unique origin, no script, no form, no navigation), with their
#: inline styles and images.
SANDBOX_POLICY = ("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                  "font-src data:; frame-ancestors 'self'")

#: The cookie of the sign-in form's CSRF token (before there is a session).
CSRF_COOKIE = "cnnkit_csrf"

#: Bytes a multipart body may add around the file itself.
MULTIPART_OVERHEAD = 64 * 1024


class BodyTooLarge(Exception):
    """A request body passed the upload limit while it was read."""


class SecurityHeaders:
    """Adds the security headers to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                present = {name.lower() for name, _ in headers}
                wanted = [(b"content-security-policy", PAGE_POLICY.encode()),
                          (b"x-frame-options", b"DENY"),
                          (b"x-content-type-options", b"nosniff"),
                          (b"referrer-policy", b"same-origin"),
                          (b"cross-origin-opener-policy", b"same-origin"),
                          (b"cache-control", b"public, max-age=3600" if static else b"no-store")]
                headers.extend((name, value) for name, value in wanted if name not in present)
            await send(message)

        await self.app(scope, receive, with_headers)


class BodyLimit:
    """Refuses request bodies over ``limit`` bytes with 413."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = Headers(scope=scope).get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await too_large(self.limit, scope)(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge()
            return message

        await self.app(scope, counted, send)


def too_large(limit: int, scope: Scope) -> Response:
    """The 413 answer."""
    upload = max(0, limit - MULTIPART_OVERHEAD)
    return refusal(scope, 413, f"upload: expected at most {upload // 1024} KB, got more. Clear "
                               f"the notebook's outputs (Kernel > Restart Kernel and Clear All "
                               f"Outputs), save, and upload it again.")


def refusal(scope: Scope, status: int, message: str, retry_after: float | None = None) -> Response:
    """A refusal as the asker reads it: JSON for the API, text otherwise (pages render their
    own)."""
    headers = {"Retry-After": str(max(1, math.ceil(retry_after)))} if retry_after else None
    if scope["path"].startswith("/api/"):
        return JSONResponse({"error": message}, status_code=status, headers=headers)
    return PlainTextResponse(message, status_code=status, headers=headers)


def credential(scope: Scope) -> str | None:
    """A key for the credential a request carries (bearer token, else session cookie), hashed so
    that the buckets hold no secret."""
    headers = Headers(scope=scope)
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return "token:" + hashlib.sha256(auth[7:].strip().encode()).hexdigest()[:32]
    cookies = Request(scope).cookies
    if cookies.get(Sessions.COOKIE):
        return "session:" + hashlib.sha256(cookies[Sessions.COOKIE].encode()).hexdigest()[:32]
    return None


class RateLimit:
    """Refuses requests past the rate limit with 429."""

    def __init__(self, app: ASGIApp, per_credential: Buckets, per_address: Buckets) -> None:
        self.app = app
        self.per_credential = per_credential
        self.per_address = per_address

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        address = (scope.get("client") or ("unknown", 0))[0]
        key = credential(scope)
        wait = self.per_address.take("address:" + address)
        if not wait:
            wait = self.per_credential.take(key or "address:" + address)
        if wait:
            await refusal(scope, 429, f"requests: expected at most {self.per_credential.capacity:g} "
                                      f"in a burst, got more. Wait {math.ceil(wait)} s and try again.",
                          retry_after=wait)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    """Set a cookie that scripts cannot read, that other sites' posts do not carry, and that
    travels only over https when the service is reached through https."""
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", path="/")


def csrf_cookie(request: Request) -> str:
    """The sign-in form's CSRF token: the cookie's, or a new one (set it on the response)."""
    return request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)


def same_origin(request: Request) -> bool:
    """Whether a form post comes from this site: its Origin header (browsers send one on
    posts), where present, is this service's."""
    origin = request.headers.get("origin")
    return origin is None or origin == f"{request.url.scheme}://{request.url.netloc}"
