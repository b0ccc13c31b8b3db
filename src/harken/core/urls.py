from django.urls import path

from .views import pages

app_name = "core"

urlpatterns = [
    path("", pages.home, name="home"),
    path("audit/", pages.AuditEventListView.as_view(), name="auditevent_list"),
    path("audit/verify/", pages.verify, name="audit_verify"),
    path("audit/<int:pk>/", pages.AuditEventDetailView.as_view(), name="auditevent"),
]
