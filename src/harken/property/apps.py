from django.apps import AppConfig


class PropertyConfig(AppConfig):
    name = "harken.property"
    label = "property"
    verbose_name = "Customer property"

    def ready(self) -> None:
        from harken.communications.links import register_linkable
        from harken.core import scoping
        from harken.core.registry import MenuItem, ObjectLink, registry

        from .demo import build_property
        from .evidence import property_evidence
        from .panels import property_panel
        from .readiness import QUESTIONS
        from .ticks import property_duties

        scoping.register("property.propertyitem", "customer")
        scoping.register("property.inventorycheck", "customer")

        registry.add_menu(
            MenuItem(
                "Communication",
                "Customer property",
                "property:propertyitem_list",
                "property.view_propertyitem",
            ),
            MenuItem(
                "Communication",
                "Custody log",
                "property:custodyevent_list",
                "property.view_custodyevent",
            ),
            MenuItem(
                "Communication",
                "Property incidents",
                "property:propertyincident_list",
                "property.view_propertyincident",
            ),
            MenuItem(
                "Communication",
                "Property due and checks",
                "property:due",
                "property.view_propertyitem",
            ),
            MenuItem(
                "Communication",
                "Inventory checks",
                "property:inventorycheck_list",
                "property.view_inventorycheck",
            ),
            MenuItem(
                "Communication",
                "Scan a property label",
                "property:scan_lookup",
                "property.view_propertyitem",
            ),
        )
        registry.add_object_link(
            ObjectLink(
                model="customers.customer",
                label="Record property",
                url_name="property:propertyitem_add",
                permission="property.add_propertyitem",
                param="customer",
            ),
        )
        # Communications name the items and incidents they concern by number.
        register_linkable("property.propertyitem", ("number",), "Property item")
        register_linkable("property.propertyincident", ("number",), "Property incident")
        registry.add_demo(29, "property", build_property)
        registry.add_panel("property", property_panel)
        registry.add_tick("customer property", property_duties)
        for code, question, check in QUESTIONS:
            registry.add_readiness(code, question, check)
        registry.add_evidence(property_evidence)
