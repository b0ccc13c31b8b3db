from django.urls import path

from . import views

app_name = "assurance"

urlpatterns = [
    path("trace/", views.trace, name="trace"),
    path("readiness/", views.readiness, name="readiness"),
    path("samples/", views.SampleAuditListView.as_view(), name="sampleaudit_list"),
    path("samples/add/", views.sample_audit_add, name="sampleaudit_add"),
    path("samples/<int:pk>/", views.SampleAuditDetailView.as_view(), name="sampleaudit"),
    path("evidence/", views.EvidenceExportListView.as_view(), name="evidenceexport_list"),
    path("evidence/export/", views.evidence_export, name="evidence_export"),
    path("evidence/<int:pk>/download/", views.evidence_download, name="evidence_download"),
]
