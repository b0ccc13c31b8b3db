"""Harken's URL map: one include per app, the API under /api/, auth under /accounts/."""

from django.contrib import admin
from django.urls import include, path

# Error pages carry the request id as a support id (core/views/errors.py).
handler500 = "harken.core.views.errors.server_error"

urlpatterns = [
    # First: the public survey links are the busiest routes, and every request is matched
    # against the patterns in order (the catch-all "" include below holds many).
    path("surveys/", include("harken.surveys.urls")),
    path("", include("harken.core.urls")),
    path("customers/", include("harken.customers.urls")),
    path("documents/", include("harken.documents.urls")),
    path("communications/", include("harken.communications.urls")),
    path("feedback/", include("harken.feedback.urls")),
    path("insights/", include("harken.insights.urls")),
    path("actions/", include("harken.actions.urls")),
    path("reviews/", include("harken.reviews.urls")),
    path("orders/", include("harken.orders.urls")),
    path("property/", include("harken.property.urls")),
    path("assurance/", include("harken.assurance.urls")),
    path("api/", include("harken.api.urls")),
    path("accounts/", include("harken.accounts.urls")),
    path("admin/", admin.site.urls),
]
