"""The server error page, with the request id as the support id.

Rendered without the request's context processors: whatever failed (often the
database) must not be needed to say that something failed.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseServerError
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponseServerError:
    template = loader.get_template("500.html")
    support_id = getattr(request, "request_id", "")
    return HttpResponseServerError(template.render({"support_id": support_id}))
