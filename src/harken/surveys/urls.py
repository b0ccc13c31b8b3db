from django.urls import path

from harken.core.views.generic import model_urls

from . import public, views
from .models import Invitation, LoopCase, LoopRule, OptOut, Survey, SurveyResponse

app_name = "surveys"

urlpatterns = [
    # The public pages: no login; the token or key in the path opens them.
    path("r/<str:token>/", public.respond, name="respond"),
    path("u/<str:token>/", public.unsubscribe, name="unsubscribe"),
    path("o/<str:key>/", public.open_link, name="open_link"),
    # Surveys: the builder, its texts and questions, preview, sending, results.
    path("<int:pk>/texts/", views.SurveyTextsView.as_view(), name="survey_texts"),
    path("<int:pk>/preview/", views.SurveyPreviewView.as_view(), name="survey_preview"),
    path("<int:pk>/send/", views.SurveySendView.as_view(), name="survey_send"),
    path("<int:pk>/results/", views.SurveyResultsView.as_view(), name="survey_results"),
    path("<int:pk>/qr.svg", views.OpenLinkQrView.as_view(), name="survey_qr"),
    path(
        "<int:pk>/transition/<slug:name>/",
        views.SurveyTransitionView.as_view(),
        name="survey_transition",
    ),
    path("add/", views.SurveyAddView.as_view(), name="survey_add"),
    path("<int:pk>/edit/", views.SurveyEditView.as_view(), name="survey_edit"),
    *model_urls(
        Survey,
        path_prefix="",
        list_view=views.SurveyListView,
        detail_view=views.SurveyDetailView,
    ),
    path("questions/add/", views.QuestionEditView.as_view(), name="question_add"),
    path("questions/<int:pk>/edit/", views.QuestionEditView.as_view(), name="question_edit"),
    path(
        "questions/<int:pk>/<slug:verb>/",
        views.QuestionActionView.as_view(),
        name="question_action",
    ),
    # Invitations and responses are made by the services only: no add or edit pages.
    path(
        "invitations/<int:pk>/bounce/",
        views.InvitationBounceView.as_view(),
        name="invitation_bounce",
    ),
    *model_urls(
        Invitation,
        list_view=views.InvitationListView,
        detail_view=views.InvitationDetailView,
    ),
    *model_urls(
        SurveyResponse,
        path_prefix="responses/",
        list_view=views.SurveyResponseListView,
        detail_view=views.SurveyResponseDetailView,
    ),
    path("opt-outs/add/", views.OptOutAddView.as_view(), name="optout_add"),
    path("opt-outs/<int:pk>/delete/", views.OptOutDeleteView.as_view(), name="optout_delete"),
    *model_urls(
        OptOut,
        path_prefix="opt-outs/",
        list_view=views.OptOutListView,
        detail_view=views.OptOutDetailView,
    ),
    # Closing the loop.
    path(
        "loop/outcome-template/",
        views.OutcomeTemplateCreateView.as_view(),
        name="outcome_template_create",
    ),
    path("loop/complaint/", views.ComplaintLoopView.as_view(), name="complaint_loop"),
    path("loop/cases/<int:pk>/send/", views.LoopCaseSendView.as_view(), name="loopcase_send"),
    *model_urls(
        LoopRule,
        path_prefix="loop/rules/",
        list_view=views.LoopRuleListView,
        detail_view=views.LoopRuleDetailView,
        edit_view=views.LoopRuleEditView,
    ),
    *model_urls(
        LoopCase,
        path_prefix="loop/cases/",
        list_view=views.LoopCaseListView,
        detail_view=views.LoopCaseDetailView,
    ),
]
