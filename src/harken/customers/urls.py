from harken.core.views.generic import model_urls

from . import views
from .models import Contact, Customer, ProductLine, Region

app_name = "customers"

urlpatterns = [
    *model_urls(
        Customer,
        path_prefix="",
        list_view=views.CustomerListView,
        detail_view=views.CustomerDetailView,
        edit_view=views.CustomerEditView,
        delete_view=views.CustomerDeleteView,
        transition_view=views.CustomerTransitionView,
    ),
    *model_urls(
        Contact,
        list_view=views.ContactListView,
        detail_view=views.ContactDetailView,
        edit_view=views.ContactEditView,
        delete_view=views.ContactDeleteView,
    ),
    *model_urls(
        ProductLine,
        path_prefix="product-lines/",
        list_view=views.ProductLineListView,
        detail_view=views.ProductLineDetailView,
        edit_view=views.ProductLineEditView,
        delete_view=views.ProductLineDeleteView,
    ),
    *model_urls(
        Region,
        list_view=views.RegionListView,
        detail_view=views.RegionDetailView,
        edit_view=views.RegionEditView,
        delete_view=views.RegionDeleteView,
    ),
]
