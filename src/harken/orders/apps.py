from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OrdersConfig(AppConfig):
    name = "harken.orders"
    label = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        from harken.communications.links import register_linkable
        from harken.core import scoping
        from harken.core.registry import MenuItem, ObjectLink, registry

        from .auditor import evidence_parts, register_questions
        from .demo import build_orders
        from .panels import orders_panel
        from .services import seed_configuration
        from .ticks import escalation_deadlines, first_responses

        scoping.register("orders.enquiry", "customer")
        scoping.register("orders.order", "customer")
        scoping.register("orders.escalation", "customer")

        # Communications concern these records by their numbers (ENQ-…, ORD-…, CHG-…).
        for model, label in (
            ("orders.enquiry", "Enquiry"),
            ("orders.requirementreview", "Requirement review"),
            ("orders.offer", "Offer"),
            ("orders.order", "Order"),
            ("orders.changerequest", "Change"),
            ("orders.escalation", "Escalation"),
            ("orders.notice", "Notice"),
        ):
            register_linkable(model, ("number",), label)
        registry.add_menu(
            MenuItem("Communication", "Enquiries", "orders:enquiry_list", "orders.view_enquiry"),
            MenuItem("Communication", "Offers", "orders:offer_list", "orders.view_offer"),
            MenuItem("Communication", "Orders", "orders:order_list", "orders.view_order"),
            MenuItem(
                "Communication",
                "Order changes",
                "orders:changerequest_list",
                "orders.view_changerequest",
            ),
            MenuItem(
                "Communication", "Escalations", "orders:escalation_list", "orders.view_escalation"
            ),
            MenuItem(
                "Communication",
                "Escalation matrix",
                "orders:escalationrule_list",
                "orders.view_escalationrule",
            ),
            MenuItem(
                "Communication",
                "Intake profiles",
                "orders:intakeprofile_list",
                "orders.view_intakeprofile",
            ),
            MenuItem(
                "Communication",
                "Review checklist",
                "orders:reviewquestion_list",
                "orders.view_reviewquestion",
            ),
        )
        registry.add_object_link(
            ObjectLink(
                model="customers.customer",
                label="New enquiry",
                url_name="orders:enquiry_add",
                permission="orders.add_enquiry",
                param="customer",
            ),
            ObjectLink(
                model="communications.communication",
                label="Record as an enquiry",
                url_name="orders:enquiry_add",
                permission="orders.add_enquiry",
                param="communication",
            ),
            ObjectLink(
                model="customers.customer",
                label="Raise an escalation",
                url_name="orders:escalation_add",
                permission="orders.add_escalation",
                param="customer",
                style="outline-danger",
            ),
            ObjectLink(
                model="orders.order",
                label="Raise an escalation",
                url_name="orders:escalation_add",
                permission="orders.add_escalation",
                param="order",
                style="outline-danger",
            ),
        )
        registry.add_demo(27, "orders", build_orders)
        registry.add_panel("orders", orders_panel)
        registry.add_tick("enquiry first responses", first_responses)
        registry.add_tick("escalation deadlines", escalation_deadlines)
        register_questions()
        registry.add_evidence(evidence_parts)
        post_migrate.connect(seed_configuration, sender=self)
