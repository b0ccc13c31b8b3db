from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "harken.insights"
    label = "insights"
    verbose_name = "Insights"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from harken.core.registry import MenuItem, registry
        from harken.feedback.models import FeedbackItem
        from harken.feedback.signals import items_added, items_changed

        from .demo import build_insights
        from .rollups import on_item_saved, on_items_added, on_items_changed
        from .ticks import look_for_signals

        post_save.connect(on_item_saved, sender=FeedbackItem, dispatch_uid="insights-rollup-save")
        post_delete.connect(
            on_item_saved, sender=FeedbackItem, dispatch_uid="insights-rollup-delete"
        )
        items_changed.connect(on_items_changed, dispatch_uid="insights-rollup-bulk")
        items_added.connect(on_items_added, dispatch_uid="insights-rollup-added")
        registry.add_menu(
            MenuItem("Insights", "Dashboard", "insights:dashboard", "insights.view_feedbackrollup"),
            MenuItem("Insights", "Explore", "insights:explore", "insights.view_feedbackrollup"),
            MenuItem("Insights", "Signals", "insights:signal_list", "insights.view_signal"),
            MenuItem(
                "Insights",
                "Quality objectives",
                "insights:qualityobjective_list",
                "insights.view_qualityobjective",
            ),
            MenuItem("Insights", "Exposure", "insights:exposure_list", "insights.view_exposure"),
        )
        registry.add_demo(30, "insights", build_insights)
        registry.add_tick("signals", look_for_signals)
