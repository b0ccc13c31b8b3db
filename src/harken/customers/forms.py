from django import forms

from harken.core.forms import BootstrapMixin

from .models import Contact, Customer, ProductLine, Region


class CustomerForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Customer
        fields = [
            "name",
            "segment",
            "region",
            "account_owner",
            "customer_since",
            "product_lines",
            "email_domain",
            "external_ref",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def clean_email_domain(self) -> str:
        domain = self.cleaned_data["email_domain"].strip().lower().lstrip("@")
        if domain and ("." not in domain or " " in domain or "@" in domain):
            raise forms.ValidationError("Enter a domain such as example.com.")
        return domain


class ContactForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Contact
        fields = [
            "customer",
            "name",
            "email",
            "phone",
            "job_title",
            "language",
            "is_primary",
            "active",
        ]


class ProductLineForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = ProductLine
        fields = ["name", "code", "kind", "description", "active"]


class RegionForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Region
        fields = ["name", "code"]
