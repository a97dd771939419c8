"""The dashboard at `/` and the offline playground at `/graphql`: files shipped in this package.

`static/` holds the page (HTML, CSS, ES modules, the GraphQL documents it sends) and, under
`static/vendor/`, the playground's third-party files (rebuilt by `make web-vendor`). Nothing is
built or fetched at run time, and every response carries a Content-Security-Policy that allows
only this origin.
"""

from app.web.pages import playground_page, web_routes
from app.web.security import SecurityHeadersMiddleware

__all__ = ["SecurityHeadersMiddleware", "playground_page", "web_routes"]
