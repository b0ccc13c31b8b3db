from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ActionsConfig(AppConfig):
    name = "harken.actions"
    label = "actions"
    verbose_name = "Actions"

    def ready(self) -> None:
        from harken.core.registry import MenuItem, registry

        from .demo import build_actions
        from .links import register_links
        from .rules import seed_rules
        from .ticks import action_duties

        registry.add_menu(
            MenuItem("Actions", "Action board", "actions:action_list", "actions.view_action"),
            MenuItem("Actions", "Proposals", "actions:proposal_list", "actions.view_proposal"),
            MenuItem("Actions", "Themes", "actions:theme_list", "actions.view_theme"),
            MenuItem(
                "Actions",
                "Decision rules",
                "actions:decisionrule_list",
                "actions.view_decisionrule",
            ),
        )
        register_links()
        registry.add_demo(40, "actions", build_actions)
        registry.add_tick("actions", action_duties)
        post_migrate.connect(seed_rules, sender=self)
