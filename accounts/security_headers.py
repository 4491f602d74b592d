"""The Content-Security-Policy header of every response: scripts, styles, fonts and pictures only from the portal's
own static files, no inline script or style, no plug-ins, never inside another site's frame.

The other security headers come from Django's own middleware and settings: HSTS (SECURE_HSTS_*, over HTTPS only),
X-Content-Type-Options, Referrer-Policy and Cross-Origin-Opener-Policy (SecurityMiddleware), X-Frame-Options
(XFrameOptionsMiddleware). Pages keep their behaviour in static/js and their looks in static/css: an inline
<script>, an on…= attribute or a style="" attribute is refused by the browser.
"""

# data: for the small SVG pictures inside Bootstrap's stylesheet (the arrows of selects, the ticks of check boxes)
# and Swagger UI's; everything else comes from the portal itself.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response
