"""`/api/`: every app's viewsets on one router, the OpenAPI schema and its docs page."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import APIRootView, DefaultRouter

from harken.actions import api as actions_api
from harken.communications import api as communications_api
from harken.customers import api as customers_api
from harken.documents import api as documents_api
from harken.feedback import api as feedback_api
from harken.insights import api as insights_api
from harken.orders import api as orders_api
from harken.property import api as property_api
from harken.reviews import api as reviews_api
from harken.surveys import api as surveys_api

from . import core_api

app_name = "api"


class ApiRootView(APIRootView):
    """The list of API endpoints, for any signed-in user."""

    permission_classes = [IsAuthenticated]


class Router(DefaultRouter):
    APIRootView = ApiRootView


router = Router()
router.register("audit-events", core_api.AuditEventViewSet, basename="auditevent")
customers_api.register(router)
documents_api.register(router)
communications_api.register(router)
feedback_api.register(router)
insights_api.register(router)
actions_api.register(router)
reviews_api.register(router)
surveys_api.register(router)
orders_api.register(router)
property_api.register(router)

urlpatterns = [
    path("", include(router.urls)),
    path("me/", core_api.me, name="me"),
    path("metrics/", insights_api.MetricsView.as_view(), name="metrics"),
    path(
        "feedback/webhook/<str:token>/",
        feedback_api.WebhookView.as_view(),
        name="feedback_webhook",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: the pages' CSP allows no inline code.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]
