"""What every request and response goes through: security headers, the upload size limit, the
rate limit, cookies, and the CSRF and origin checks of form posts.

- Headers: a Content-Security-Policy that allows the page's own stylesheet and nothing else (no
  script, but for the kit's own file that sizes the feedback frame), no framing, no referrer to
  other sites (personal links carry tokens; within the site browsers then send the Origin header
  that the form check reads), no MIME sniffing. Responses that set their own policy (the
  sandboxed feedback, the page that frames it) keep it.
- Size: a request body larger than the upload limit is refused with 413 before it is read (by
  its Content-Length) or as soon as it passes the limit (a chunked one). An answer given before
  the body was read in full (this one, or any other refusal) closes the connection, so the rest
  of the body is never read.
- Rate: a token bucket per credential (the session cookie or the bearer token) and a larger one
  per address; a request past either gets 429 with Retry-After. Static files and ``/healthz``
  (asked by monitors, cheap) are exempt.
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
#: (A page that frames the feedback adds its one script: :data:`FRAMING_POLICY`.)
PAGE_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
               "frame-src 'self'; frame-ancestors 'none'; base-uri 'none'")

#: The policy of a page that frames the feedback: :data:`PAGE_POLICY` and the kit's own script
#: that sizes the frame to its content (``/static/fit.js``; no inline script, and every response
#: says ``nosniff``, so no other answer of the site can pass for a script).
FRAMING_POLICY = PAGE_POLICY + "; script-src 'self'"

#: The policy of the class report: it holds the students' outputs, so it runs sandboxed (a
#: unique origin, no script, no form, no navigation), with its inline styles and images.
SANDBOX_POLICY = ("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                  "font-src data:; frame-ancestors 'self'")

#: The policy of nbgrader's feedback page, which holds the student's outputs too: sandboxed the
#: same way, but in the site's origin, so that the framing page's script can read its height.
#: Nothing in it can run: the sandbox has no ``allow-scripts`` and the policy no ``script-src``.
FEEDBACK_POLICY = SANDBOX_POLICY.replace("sandbox;", "sandbox allow-same-origin;", 1)

#: The cookie of the sign-in form's CSRF token (before there is a session).
CSRF_COOKIE = "cnnkit_csrf"

#: Bytes a multipart body may add around the file itself.
MULTIPART_OVERHEAD = 64 * 1024


#: Paths the rate limit does not count.
UNCOUNTED = ("/static/", "/healthz")


class BodyTooLarge(Exception):
    """A request body passed the upload limit while it was read."""


def retry_after(seconds: float) -> str:
    """The ``Retry-After`` value for a wait of ``seconds``: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))


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
    """Refuses request bodies over ``limit`` bytes with 413, and closes the connection: a client
    that sends more is not read any further."""

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
        started = False
        # Whether a body is still to come: an answer given before it is read in full (a refusal)
        # closes the connection, so that the server does not read the rest only to drop it.
        pending = (length not in (None, "0")
                   or "chunked" in Headers(scope=scope).get("transfer-encoding", "").lower())

        async def counted() -> Message:
            nonlocal seen, pending
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                pending = pending and message.get("more_body", False)
                if seen > self.limit:
                    raise BodyTooLarge()
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if pending:
                    message = {**message, "headers": [*message.get("headers", []),
                                                      (b"connection", b"close")]}
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if started:
                raise
            await too_large(self.limit, scope)(scope, receive, send)


def too_large(limit: int, scope: Scope) -> Response:
    """The 413 answer; it closes the connection (``Connection: close``), so that the server reads
    nothing more of the body."""
    upload = max(0, limit - MULTIPART_OVERHEAD)
    response = refusal(scope, 413, f"upload: expected at most {upload // 1024} KB, got more. "
                                   f"Clear the notebook's outputs (Kernel > Restart Kernel and "
                                   f"Clear All Outputs), save, and upload it again.")
    response.headers["Connection"] = "close"
    return response


def refusal(scope: Scope, status: int, message: str, wait: float | None = None) -> Response:
    """A refusal as the asker reads it: JSON for the API, text otherwise (pages render their
    own); ``wait``, the seconds until asking again makes sense (``Retry-After``)."""
    headers = {"Retry-After": retry_after(wait)} if wait else None
    if is_api(scope):
        return JSONResponse({"error": message}, status_code=status, headers=headers)
    return PlainTextResponse(message, status_code=status, headers=headers)


def is_api(scope: Scope) -> bool:
    """Whether a request is for the JSON API (its answers, refusals included, are JSON)."""
    return scope["path"] == "/api" or scope["path"].startswith("/api/")


def client_address(scope: Scope) -> str:
    """The asker's address (the proxy's ``X-Forwarded-For`` already applied by uvicorn)."""
    return (scope.get("client") or ("unknown", 0))[0]


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
        if scope["type"] != "http" or scope["path"].startswith(UNCOUNTED):
            await self.app(scope, receive, send)
            return
        address = client_address(scope)
        key = credential(scope)
        wait = self.per_address.take("address:" + address)
        if not wait:
            wait = self.per_credential.take(key or "address:" + address)
        if wait:
            await refusal(scope, 429, f"requests: expected at most {self.per_credential.capacity:g} "
                                      f"in a burst, got more. Wait {retry_after(wait)} s and try "
                                      f"again.", wait)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    """Set a cookie that scripts cannot read, that other sites' posts do not carry, and that
    travels only over https when the service is reached through https."""
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax",
                        secure=request.scope.get("scheme") == "https", path="/")


def csrf_cookie(request: Request) -> str:
    """The sign-in form's CSRF token: the cookie's, or a new one (set it on the response)."""
    return request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)


def same_origin(request: Request) -> bool:
    """Whether a form post comes from this site: its Origin header (browsers send one on
    posts), where present, is this service's."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    # Compared as text: ``request.url`` would parse the Host header, and raise on a malformed one.
    scheme = request.scope.get("scheme", "http")
    host = request.headers.get("host")
    if not host:
        server_host, port = request.scope.get("server") or ("", None)
        host = server_host if port in (None, {"http": 80, "https": 443}.get(scheme)) \
            else f"{server_host}:{port}"
    return origin == f"{scheme}://{host}"
