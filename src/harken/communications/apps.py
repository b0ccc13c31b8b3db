from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CommunicationsConfig(AppConfig):
    name = "harken.communications"
    label = "communications"
    verbose_name = "Communications"

    def ready(self) -> None:
        from harken.core import scoping
        from harken.core.registry import MenuItem, ObjectLink, registry

        from .demo import build_communications
        from .lifecycle import seed_lifecycle
        from .links import register_defaults
        from .panels import communications_panel
        from .retention import register_record_types
        from .ticks import fetch_mail

        scoping.register("communications.thread", "customer")
        scoping.register("communications.communication", "customer")

        register_record_types()

        register_defaults()
        registry.add_menu(
            MenuItem(
                "Communication",
                "Communication log",
                "communications:communication_list",
                "communications.view_communication",
            ),
            MenuItem(
                "Communication",
                "Mail triage",
                "communications:triage",
                "communications.view_communication",
            ),
            MenuItem(
                "Communication",
                "Threads",
                "communications:thread_list",
                "communications.view_thread",
            ),
            MenuItem(
                "Communication",
                "Lifecycle map",
                "communications:lifecyclestage_list",
                "communications.view_lifecyclestage",
            ),
            MenuItem(
                "Communication",
                "Mailboxes",
                "communications:mailbox_list",
                "communications.view_mailbox",
            ),
            MenuItem(
                "Communication",
                "Mail runs",
                "communications:mailrun_list",
                "communications.view_mailrun",
            ),
        )
        registry.add_object_link(
            ObjectLink(
                model="customers.customer",
                label="Log a call",
                url_name="communications:communication_add",
                permission="communications.add_communication",
                param="customer",
            ),
            ObjectLink(
                model="documents.documentversion",
                label="Notify holders",
                url_name="communications:revision_notice",
                permission="communications.add_communication",
                param="version",
                style="outline-warning",
            ),
        )
        registry.add_demo(25, "communications", build_communications)
        registry.add_panel("communications", communications_panel)
        registry.add_tick("mail fetch", fetch_mail)
        post_migrate.connect(seed_lifecycle, sender=self)
