from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DocumentsConfig(AppConfig):
    name = "harken.documents"
    label = "documents"
    verbose_name = "Documents"

    def ready(self) -> None:
        from harken.core import scoping
        from harken.core.registry import MenuItem, ObjectLink, registry

        from .demo import build_documents
        from .panels import documents_panel
        from .seed import seed_method_documents
        from .ticks import versions_into_effect

        scoping.register("documents.distribution", "customer")

        registry.add_menu(
            MenuItem(
                "Communication", "Documents", "documents:document_list", "documents.view_document"
            ),
            MenuItem(
                "Communication",
                "Document distributions",
                "documents:distribution_list",
                "documents.view_distribution",
            ),
            MenuItem(
                "Communication",
                "Read and understood",
                "documents:acknowledgement_list",
                "documents.view_acknowledgement",
            ),
        )
        registry.add_object_link(
            ObjectLink(
                model="documents.documentversion",
                label="Record a copy given",
                url_name="documents:distribution_add",
                permission="documents.add_distribution",
                param="version",
            ),
        )
        registry.add_demo(15, "documents", build_documents)
        registry.add_panel("documents", documents_panel)
        registry.add_tick("document versions into effect", versions_into_effect)
        post_migrate.connect(seed_method_documents, sender=self)
