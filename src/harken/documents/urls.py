from django.urls import path

from harken.core.views.generic import model_urls

from . import views
from .models import Acknowledgement, Distribution, Document, DocumentVersion

app_name = "documents"

urlpatterns = [
    # Documents are never deleted: distributions and acknowledgements refer to them.
    *model_urls(
        Document,
        path_prefix="",
        list_view=views.DocumentListView,
        detail_view=views.DocumentDetailView,
        edit_view=views.DocumentEditView,
    ),
    # A version is created and edited as a draft; after that only its steps change it.
    path("versions/add/", views.DocumentVersionAddView.as_view(), name="documentversion_add"),
    path(
        "versions/<int:pk>/edit/",
        views.DocumentVersionEditView.as_view(),
        name="documentversion_edit",
    ),
    path(
        "versions/<int:pk>/file/",
        views.DocumentVersionFileView.as_view(),
        name="documentversion_file",
    ),
    path(
        "versions/<int:pk>/acknowledge/",
        views.AcknowledgeView.as_view(),
        name="documentversion_acknowledge",
    ),
    *model_urls(
        DocumentVersion,
        path_prefix="versions/",
        list_view=views.DocumentVersionListView,
        detail_view=views.DocumentVersionDetailView,
        delete_view=views.DocumentVersionDeleteView,
        transition_view=views.DocumentVersionStepView,
    ),
    # Distributions are facts: recorded once, never edited or deleted.
    path("distributions/add/", views.DistributionAddView.as_view(), name="distribution_add"),
    *model_urls(
        Distribution,
        path_prefix="distributions/",
        list_view=views.DistributionListView,
        detail_view=views.DistributionDetailView,
    ),
    *model_urls(
        Acknowledgement,
        path_prefix="acknowledgements/",
        list_view=views.AcknowledgementListView,
    ),
]
