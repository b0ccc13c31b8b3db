from django.urls import path

from harken.core.views.generic import model_urls

from . import views
from .models import (
    Category,
    ClassificationRule,
    FeedbackItem,
    ImpactLevel,
    ImportBatch,
    PerceptionSource,
)

app_name = "feedback"

urlpatterns = [
    # Sources are retired (active = no), never deleted: their feedback refers to them.
    path("sources/as-of/", views.PerceptionSourceAsOfView.as_view(), name="perceptionsource_asof"),
    *model_urls(
        PerceptionSource,
        path_prefix="sources/",
        list_view=views.PerceptionSourceListView,
        detail_view=views.PerceptionSourceDetailView,
        edit_view=views.PerceptionSourceEditView,
    ),
    # Items are recorded through the intake service and changed only by classifying
    # and handling them, so they have an add page but no generic edit page.
    path("items/add/", views.FeedbackItemAddView.as_view(), name="feedbackitem_add"),
    path(
        "items/<int:pk>/classify/",
        views.FeedbackItemClassifyView.as_view(),
        name="feedbackitem_classify",
    ),
    path(
        "items/<int:pk>/acknowledge/",
        views.FeedbackItemAcknowledgeView.as_view(),
        name="feedbackitem_acknowledge",
    ),
    path(
        "items/<int:pk>/resolve/",
        views.FeedbackItemResolveView.as_view(),
        name="feedbackitem_resolve",
    ),
    *model_urls(
        FeedbackItem,
        path_prefix="items/",
        list_view=views.FeedbackItemListView,
        detail_view=views.FeedbackItemDetailView,
        transition_view=views.FeedbackItemTransitionView,
    ),
    path("triage/", views.TriageView.as_view(), name="triage"),
    path("triage/bulk/", views.TriageBulkView.as_view(), name="triage_bulk"),
    path("imports/add/", views.ImportUploadView.as_view(), name="importbatch_add"),
    path("imports/<int:pk>/map/", views.ImportMapView.as_view(), name="importbatch_map"),
    path("imports/<int:pk>/file/", views.ImportBatchFileView.as_view(), name="importbatch_file"),
    path(
        "imports/<int:pk>/rejects/",
        views.ImportBatchRejectsView.as_view(),
        name="importbatch_rejects",
    ),
    path(
        "imports/<int:pk>/progress/",
        views.ImportBatchProgressView.as_view(),
        name="importbatch_progress",
    ),
    *model_urls(
        ImportBatch,
        path_prefix="imports/",
        list_view=views.ImportBatchListView,
        detail_view=views.ImportBatchDetailView,
    ),
    # Categories are retired, never deleted: items and reports refer to them.
    path(
        "categories/<int:pk>/remap/",
        views.CategoryRemapView.as_view(),
        name="category_remap",
    ),
    *model_urls(
        Category,
        path_prefix="categories/",
        list_view=views.CategoryListView,
        detail_view=views.CategoryDetailView,
        edit_view=views.CategoryEditView,
    ),
    *model_urls(
        ClassificationRule,
        path_prefix="rules/",
        list_view=views.ClassificationRuleListView,
        detail_view=views.ClassificationRuleDetailView,
        edit_view=views.ClassificationRuleEditView,
        delete_view=views.ClassificationRuleDeleteView,
    ),
    # Three fixed levels: their criteria are edited, the levels never added or removed.
    path(
        "impact-levels/<int:pk>/edit/",
        views.ImpactLevelEditView.as_view(),
        name="impactlevel_edit",
    ),
    *model_urls(
        ImpactLevel,
        path_prefix="impact-levels/",
        list_view=views.ImpactLevelListView,
        detail_view=views.ImpactLevelDetailView,
    ),
]
