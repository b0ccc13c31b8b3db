from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "harken.customers"
    label = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        from harken.core import scoping
        from harken.core.registry import MenuItem, registry

        from .demo import build_customers
        from .panels import customers_panel

        scoping.register("customers.customer", "")
        scoping.register("customers.contact", "customer")

        registry.add_menu(
            MenuItem(
                "Communication", "Customers", "customers:customer_list", "customers.view_customer"
            ),
            MenuItem(
                "Communication", "Contacts", "customers:contact_list", "customers.view_contact"
            ),
            MenuItem(
                "Communication",
                "Product lines",
                "customers:productline_list",
                "customers.view_productline",
            ),
            MenuItem("Communication", "Regions", "customers:region_list", "customers.view_region"),
        )
        registry.add_demo(10, "customers", build_customers)
        registry.add_panel("customers", customers_panel)
