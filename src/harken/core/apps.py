from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "harken.core"
    label = "core"
    verbose_name = "Harken core"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - connects the audit receivers
        from .demo import build_people
        from .registry import MenuItem, registry
        from .retention import retention_tick
        from .ticks import refresh_statistics, verify_audit_chain
        from .workers import requeue_orphans

        registry.add_menu(
            MenuItem("Assurance", "Audit trail", "core:auditevent_list", "core.view_auditevent"),
            MenuItem(
                "Assurance", "Retention", "core:retentionrule_list", "core.view_retentionrule"
            ),
        )
        registry.add_tick("retention", retention_tick)
        registry.add_tick("audit chain", verify_audit_chain)
        registry.add_tick("database statistics", refresh_statistics)
        registry.add_tick("tasks of stopped workers", requeue_orphans)
        registry.add_demo(0, "people", build_people)
