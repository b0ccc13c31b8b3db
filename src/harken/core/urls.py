from django.urls import path

from .models import RetentionRule
from .views import pages, retention
from .views.generic import model_urls

app_name = "core"

urlpatterns = [
    path("", pages.home, name="home"),
    path("audit/", pages.AuditEventListView.as_view(), name="auditevent_list"),
    path("audit/verify/", pages.verify, name="audit_verify"),
    path("audit/<int:pk>/", pages.AuditEventDetailView.as_view(), name="auditevent"),
    *model_urls(
        RetentionRule,
        path_prefix="retention/",
        list_view=retention.RetentionRuleListView,
        detail_view=retention.RetentionRuleDetailView,
        edit_view=retention.RetentionRuleEditView,
    ),
]
