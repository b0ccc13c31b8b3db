"""Customers in the API: serializers and viewsets sharing the pages' filters."""

from typing import Any

from rest_framework import serializers

from harken.api.base import TrackedViewSet, TransitionMixin

from . import filters
from .models import Contact, Customer, ProductLine, Region


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["id", "name", "code", "created_at", "updated_at"]


class ProductLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProductLine
        fields = ["id", "name", "code", "kind", "description", "active", "created_at", "updated_at"]


class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = [
            "id",
            "number",
            "name",
            "segment",
            "region",
            "account_owner",
            "status",
            "product_lines",
            "customer_since",
            "email_domain",
            "external_ref",
            "notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["number", "status", "created_at", "updated_at"]


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = [
            "id",
            "customer",
            "name",
            "email",
            "phone",
            "job_title",
            "language",
            "is_primary",
            "active",
            "created_at",
            "updated_at",
        ]


class RegionViewSet(TrackedViewSet):
    queryset = Region.objects.all()
    serializer_class = RegionSerializer
    filterset_class = filters.RegionFilterSet


class ProductLineViewSet(TrackedViewSet):
    queryset = ProductLine.objects.all()
    serializer_class = ProductLineSerializer
    filterset_class = filters.ProductLineFilterSet


class CustomerViewSet(TransitionMixin, TrackedViewSet):
    queryset = Customer.objects.select_related("region").prefetch_related("product_lines")
    serializer_class = CustomerSerializer
    filterset_class = filters.CustomerFilterSet


class ContactViewSet(TrackedViewSet):
    queryset = Contact.objects.all()
    serializer_class = ContactSerializer
    filterset_class = filters.ContactFilterSet


def register(router: Any) -> None:
    router.register("regions", RegionViewSet)
    router.register("product-lines", ProductLineViewSet)
    router.register("customers", CustomerViewSet)
    router.register("contacts", ContactViewSet)
