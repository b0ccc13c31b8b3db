from django.urls import path

from harken.core.views.generic import model_urls

from . import views
from .models import CustodyEvent, InventoryCheck, PropertyIncident, PropertyItem

app_name = "property"

urlpatterns = [
    # What a label's QR code opens, and the page a handheld scanner types into.
    path("scan/", views.ScanLookupView.as_view(), name="scan_lookup"),
    path("scan/<str:number>/", views.ScanView.as_view(), name="scan"),
    path("due/", views.DueView.as_view(), name="due"),
    path("labels/", views.LabelSheetView.as_view(), name="labels"),
    path("<int:pk>/label/", views.ItemLabelView.as_view(), name="propertyitem_label"),
    path("<int:pk>/custody/", views.CustodyEventAddView.as_view(), name="propertyitem_custody"),
    path("files/<int:pk>/", views.ItemFileView.as_view(), name="itemfile"),
    *model_urls(
        PropertyItem,
        path_prefix="",
        list_view=views.PropertyItemListView,
        detail_view=views.PropertyItemDetailView,
        edit_view=views.PropertyItemEditView,
        delete_view=views.PropertyItemDeleteView,
    ),
    # The custody log is append-only: a list, each event, nothing to edit or delete.
    *model_urls(
        CustodyEvent,
        path_prefix="custody/",
        list_view=views.CustodyEventListView,
        detail_view=views.CustodyEventDetailView,
    ),
    # Incidents are closed, never deleted.
    path("incidents/add/", views.IncidentAddView.as_view(), name="propertyincident_add"),
    path(
        "incidents/<int:pk>/edit/",
        views.IncidentEditView.as_view(),
        name="propertyincident_edit",
    ),
    path(
        "incidents/<int:pk>/notify/",
        views.IncidentNotifyView.as_view(),
        name="propertyincident_notify",
    ),
    path(
        "incidents/<int:pk>/action/",
        views.IncidentActionView.as_view(),
        name="propertyincident_action",
    ),
    *model_urls(
        PropertyIncident,
        path_prefix="incidents/",
        list_view=views.IncidentListView,
        detail_view=views.IncidentDetailView,
        transition_view=views.IncidentTransitionView,
    ),
    path("checks/add/", views.InventoryCheckAddView.as_view(), name="inventorycheck_add"),
    *model_urls(
        InventoryCheck,
        path_prefix="checks/",
        list_view=views.InventoryCheckListView,
        detail_view=views.InventoryCheckDetailView,
    ),
]
