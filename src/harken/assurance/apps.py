from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AssuranceConfig(AppConfig):
    name = "harken.assurance"
    label = "assurance"
    verbose_name = "Assurance"

    def ready(self) -> None:
        from harken.core.registry import MenuItem, ObjectLink, registry

        from .demo import build_assurance
        from .readiness import register_questions, seed_rules
        from .services import chain_alert
        from .ticks import daily_assurance

        register_questions()
        registry.add_menu(
            MenuItem(
                "Assurance", "Readiness check", "assurance:readiness", "assurance.view_readinessrun"
            ),
            MenuItem(
                "Assurance",
                "Sample audits",
                "assurance:sampleaudit_list",
                "assurance.view_sampleaudit",
            ),
            MenuItem(
                "Assurance",
                "Evidence packs",
                "assurance:evidenceexport_list",
                "assurance.view_evidenceexport",
            ),
        )
        for model, param in (
            ("feedback.feedbackitem", "feedbackitem"),
            ("actions.theme", "theme"),
            ("actions.action", "action"),
            ("insights.signal", "signal"),
            ("reviews.reviewpack", "reviewpack"),
            ("reviews.reviewmeeting", "reviewmeeting"),
        ):
            registry.add_object_link(
                ObjectLink(
                    model=model,
                    label="Trace",
                    url_name="assurance:trace",
                    permission=f"{model.split('.')[0]}.view_{model.split('.')[1]}",
                    param=param,
                    style="outline-dark",
                )
            )
        registry.audit_export.append(_export_command)
        registry.alerts.append(chain_alert)
        registry.add_demo(90, "assurance", build_assurance)
        registry.add_tick("assurance", daily_assurance)
        post_migrate.connect(seed_rules, sender=self)


def _export_command(start: Any, end: Any, out: str) -> Any:
    from .evidence import export

    record = export(start, end)
    with record.file.open() as handle, open(out, "wb") as target:
        target.write(handle.read())
    return record
