from django.urls import path

from harken.core.views.generic import model_urls

from . import views
from .models import Action, DecisionRule, Proposal, Theme

app_name = "actions"

urlpatterns = [
    # Actions: the board is the list; an action's parts have their own forms, each
    # calling its service (root cause, steps, the effectiveness check and its verdict).
    path("<int:pk>/containment/", views.ActionContainmentView.as_view(), name="action_containment"),
    path("<int:pk>/root-cause/", views.ActionRootCauseView.as_view(), name="action_rootcause"),
    path(
        "<int:pk>/root-cause/file/",
        views.ActionRootCauseFileView.as_view(),
        name="action_rootcause_file",
    ),
    path("<int:pk>/steps/add/", views.ActionStepAddView.as_view(), name="action_step_add"),
    path(
        "<int:pk>/steps/<int:step>/done/",
        views.ActionStepDoneView.as_view(),
        name="action_step_done",
    ),
    path("<int:pk>/check/", views.ActionCheckView.as_view(), name="action_check"),
    path(
        "<int:pk>/check/compute/",
        views.ActionCheckComputeView.as_view(),
        name="action_check_compute",
    ),
    path(
        "<int:pk>/check/confirm/",
        views.ActionCheckConfirmView.as_view(),
        name="action_check_confirm",
    ),
    path("add/", views.ActionAddView.as_view(), name="action_add"),
    path("<int:pk>/edit/", views.ActionEditView.as_view(), name="action_edit"),
    # Actions are never deleted: an auditor follows them from the feedback they cite.
    *model_urls(
        Action,
        path_prefix="",
        list_view=views.ActionListView,
        detail_view=views.ActionDetailView,
        transition_view=views.ActionTransitionView,
    ),
    # Themes are retired (active = no), never deleted: dispositions and actions cite them.
    path("themes/candidates/", views.ThemeCandidatesView.as_view(), name="theme_candidates"),
    path("themes/<int:pk>/dispose/", views.ThemeDisposeView.as_view(), name="theme_dispose"),
    path("themes/<int:pk>/link/", views.ThemeLinkView.as_view(), name="theme_link"),
    *model_urls(
        Theme,
        path_prefix="themes/",
        list_view=views.ThemeListView,
        detail_view=views.ThemeDetailView,
        edit_view=views.ThemeEditView,
    ),
    # Proposals come from the rules; people accept or reject them, nothing else.
    path("proposals/run/", views.ProposalRunRulesView.as_view(), name="proposal_run"),
    path("proposals/<int:pk>/accept/", views.ProposalAcceptView.as_view(), name="proposal_accept"),
    path("proposals/<int:pk>/reject/", views.ProposalRejectView.as_view(), name="proposal_reject"),
    *model_urls(
        Proposal,
        path_prefix="proposals/",
        list_view=views.ProposalListView,
        detail_view=views.ProposalDetailView,
    ),
    # Rules are switched off (active = no), never deleted: their proposals cite them.
    *model_urls(
        DecisionRule,
        path_prefix="rules/",
        list_view=views.DecisionRuleListView,
        detail_view=views.DecisionRuleDetailView,
        edit_view=views.DecisionRuleEditView,
    ),
]
