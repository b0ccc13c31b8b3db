"""Customer pages: a few attributes each on the generic views."""

from typing import Any

from django.urls import reverse

from harken.core.permissions import can
from harken.core.tables import Column
from harken.core.views.generic import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    ObjectTransitionView,
)

from . import filters, forms
from .models import Contact, Customer, ProductLine, Region

CONTACT_COLUMNS = (
    Column("name", "Name", order_by="name", link=True),
    Column("email", "E-mail", order_by="email"),
    Column("phone", "Phone"),
    Column("job_title", "Job title"),
    Column("is_primary", "Primary"),
)


class CustomerListView(ObjectListView):
    model = Customer
    queryset = Customer.objects.select_related("region", "account_owner")
    filterset_class = filters.CustomerFilterSet
    default_order = "name"
    columns = (
        Column("number", "Number", order_by="number", link=True),
        Column("name", "Name", order_by="name", link=True),
        Column("segment", "Segment", order_by="segment"),
        Column("region.name", "Region", order_by="region__name"),
        Column("account_owner.username", "Account owner"),
        Column("status", "Status", order_by="status"),
    )


class CustomerDetailView(ObjectDetailView):
    model = Customer
    queryset = Customer.objects.select_related("region", "account_owner").prefetch_related(
        "product_lines"
    )
    template_name = "customers/customer_detail.html"
    fields = (
        Column("number", "Number"),
        Column("segment", "Segment"),
        Column("region", "Region", link=True),
        Column("account_owner", "Account owner"),
        Column("status", "Status"),
        Column("product_lines", "Product lines"),
        Column("customer_since", "Customer since"),
        Column("email_domain", "E-mail domain"),
        Column("external_ref", "Reference in other systems"),
        Column("notes", "Notes"),
    )

    def get_extra_context(self, obj: Any) -> dict[str, Any]:
        contacts = obj.contacts.all()
        add_url = ""
        if can(self.request.user, "add", Contact):
            add_url = reverse("customers:contact_add") + f"?customer={obj.pk}"
        return {
            "contacts": {
                "title": "Contacts",
                "columns": CONTACT_COLUMNS,
                "rows": [(c, [col.value(c) for col in CONTACT_COLUMNS]) for c in contacts],
                "add_url": add_url,
            }
        }


class CustomerEditView(ObjectEditView):
    model = Customer
    form_class = forms.CustomerForm


class CustomerDeleteView(ObjectDeleteView):
    model = Customer


class CustomerTransitionView(ObjectTransitionView):
    model = Customer


class ContactListView(ObjectListView):
    model = Contact
    queryset = Contact.objects.select_related("customer")
    filterset_class = filters.ContactFilterSet
    default_order = "name"
    columns = (
        *CONTACT_COLUMNS[:2],
        Column("customer", "Customer", order_by="customer__name"),
        *CONTACT_COLUMNS[2:],
    )


class ContactDetailView(ObjectDetailView):
    model = Contact
    queryset = Contact.objects.select_related("customer")
    fields = (
        Column("customer", "Customer", link=True),
        Column("email", "E-mail"),
        Column("phone", "Phone"),
        Column("job_title", "Job title"),
        Column("language", "Language"),
        Column("is_primary", "Primary contact"),
        Column("active", "Active"),
    )


class ContactEditView(ObjectEditView):
    model = Contact
    form_class = forms.ContactForm

    def get_form(self, instance: Any, data: Any = None, files: Any = None) -> Any:
        initial = {}
        if instance is None and "customer" in self.request.GET:
            initial["customer"] = self.request.GET["customer"]
        return self.form_class(data=data, files=files, instance=instance, initial=initial)


class ContactDeleteView(ObjectDeleteView):
    model = Contact


class ProductLineListView(ObjectListView):
    model = ProductLine
    filterset_class = filters.ProductLineFilterSet
    default_order = "name"
    columns = (
        Column("code", "Code", order_by="code", link=True),
        Column("name", "Name", order_by="name", link=True),
        Column("kind", "Kind", order_by="kind"),
        Column("active", "Active", order_by="active"),
    )


class ProductLineDetailView(ObjectDetailView):
    model = ProductLine
    fields = (
        Column("code", "Code"),
        Column("kind", "Kind"),
        Column("description", "Description"),
        Column("active", "Active"),
    )


class ProductLineEditView(ObjectEditView):
    model = ProductLine
    form_class = forms.ProductLineForm


class ProductLineDeleteView(ObjectDeleteView):
    model = ProductLine


class RegionListView(ObjectListView):
    model = Region
    filterset_class = filters.RegionFilterSet
    default_order = "name"
    columns = (
        Column("code", "Code", order_by="code", link=True),
        Column("name", "Name", order_by="name", link=True),
    )


class RegionDetailView(ObjectDetailView):
    model = Region
    fields = (Column("code", "Code"), Column("name", "Name"))


class RegionEditView(ObjectEditView):
    model = Region
    form_class = forms.RegionForm


class RegionDeleteView(ObjectDeleteView):
    model = Region
