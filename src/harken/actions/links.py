"""The buttons the actions app offers on other records' pages: a signal, a feedback item
or a theme becomes an action, prefilled from it (`views.ActionAddView.prefill`)."""

from __future__ import annotations

from harken.core.registry import ObjectLink, registry

LINKS = (
    ObjectLink(
        model="insights.signal",
        label="Turn into action",
        url_name="actions:action_add",
        permission="actions.add_action",
        param="signal",
        style="primary",
    ),
    ObjectLink(
        model="feedback.feedbackitem",
        label="Open an action",
        url_name="actions:action_add",
        permission="actions.add_action",
        param="item",
    ),
    ObjectLink(
        model="actions.theme",
        label="Open an action",
        url_name="actions:action_add",
        permission="actions.add_action",
        param="theme",
    ),
)


def register_links() -> None:
    """Called once from `ActionsConfig.ready()`; registering twice changes nothing."""
    registry.add_object_link(*LINKS)
