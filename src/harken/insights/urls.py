from django.urls import path

from harken.core.views.generic import model_urls

from . import views
from .models import Exposure, QualityObjective, Signal

app_name = "insights"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("data/", views.DashboardDataView.as_view(), name="dashboard_data"),
    path("explore/", views.ExploreView.as_view(), name="explore"),
    path("signals/detect/", views.SignalDetectView.as_view(), name="signal_detect"),
    # Signals are found by detection, never added or deleted by hand; people move
    # them through their states (acknowledge, dismiss with a reason, reopen).
    *model_urls(
        Signal,
        path_prefix="signals/",
        list_view=views.SignalListView,
        detail_view=views.SignalDetailView,
        transition_view=views.SignalTransitionView,
    ),
    *model_urls(
        QualityObjective,
        path_prefix="objectives/",
        list_view=views.QualityObjectiveListView,
        detail_view=views.QualityObjectiveDetailView,
        edit_view=views.QualityObjectiveEditView,
        delete_view=views.QualityObjectiveDeleteView,
    ),
    path("exposure/import/", views.ExposureImportView.as_view(), name="exposure_import"),
    *model_urls(
        Exposure,
        path_prefix="exposure/",
        list_view=views.ExposureListView,
        detail_view=views.ExposureDetailView,
        edit_view=views.ExposureEditView,
        delete_view=views.ExposureDeleteView,
    ),
]
