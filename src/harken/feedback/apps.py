from django.apps import AppConfig
from django.db.models.signals import post_migrate


class FeedbackConfig(AppConfig):
    name = "harken.feedback"
    label = "feedback"
    verbose_name = "Feedback"

    def ready(self) -> None:
        from harken.core import scoping
        from harken.core.registry import MenuItem, registry

        from .demo import build_feedback
        from .panels import feedback_panel
        from .retention import register_record_types
        from .taxonomy import seed_taxonomy
        from .ticks import flag_overdue_complaints

        scoping.register("feedback.feedbackitem", "customer")

        register_record_types()

        registry.add_menu(
            MenuItem(
                "Feedback",
                "Feedback items",
                "feedback:feedbackitem_list",
                "feedback.view_feedbackitem",
            ),
            MenuItem(
                "Feedback", "Triage queue", "feedback:triage", "feedback.classify_feedbackitem"
            ),
            MenuItem(
                "Feedback",
                "Source register",
                "feedback:perceptionsource_list",
                "feedback.view_perceptionsource",
            ),
            MenuItem(
                "Feedback", "Imports", "feedback:importbatch_list", "feedback.view_importbatch"
            ),
            MenuItem("Feedback", "Categories", "feedback:category_list", "feedback.view_category"),
            MenuItem(
                "Feedback",
                "Impact levels",
                "feedback:impactlevel_list",
                "feedback.view_impactlevel",
            ),
            MenuItem(
                "Feedback",
                "Classification rules",
                "feedback:classificationrule_list",
                "feedback.view_classificationrule",
            ),
        )
        registry.add_demo(20, "feedback", build_feedback)
        registry.add_panel("feedback", feedback_panel)
        registry.add_tick("overdue complaints", flag_overdue_complaints)
        post_migrate.connect(seed_taxonomy, sender=self)
