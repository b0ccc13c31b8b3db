from django.urls import path

from harken.core.views.generic import model_urls

from . import views
from .models import Communication, LifecycleStage, Mailbox, MailRun, Thread

app_name = "communications"

urlpatterns = [
    # Communications are logged through the quick log (or arrive as mail) and change
    # through their steps; only logged calls and meetings have an edit page.
    path("log/", views.LogView.as_view(), name="communication_add"),
    path("triage/", views.TriageListView.as_view(), name="triage"),
    path("import/", views.MailImportView.as_view(), name="mail_import"),
    path("notice/", views.RevisionNoticeView.as_view(), name="revision_notice"),
    path(
        "customers/<int:pk>/timeline/",
        views.CustomerTimelineView.as_view(),
        name="customer_timeline",
    ),
    path("<int:pk>/edit/", views.CommunicationEditView.as_view(), name="communication_edit"),
    path("<int:pk>/file/", views.FileView.as_view(), name="communication_file"),
    path("<int:pk>/dismiss/", views.DismissView.as_view(), name="communication_dismiss"),
    path("<int:pk>/links/", views.LinkAddView.as_view(), name="communication_link"),
    path("<int:pk>/raw/", views.RawMessageView.as_view(), name="communication_raw"),
    path("links/<int:pk>/delete/", views.LinkDeleteView.as_view(), name="communicationlink_delete"),
    path("attachments/<int:pk>/", views.AttachmentFileView.as_view(), name="attachment_file"),
    *model_urls(
        Communication,
        path_prefix="",
        list_view=views.CommunicationListView,
        detail_view=views.CommunicationDetailView,
        transition_view=views.CommunicationTransitionView,
    ),
    *model_urls(
        Thread,
        path_prefix="threads/",
        list_view=views.ThreadListView,
        detail_view=views.ThreadDetailView,
    ),
    *model_urls(
        Mailbox,
        path_prefix="mailboxes/",
        list_view=views.MailboxListView,
        detail_view=views.MailboxDetailView,
        edit_view=views.MailboxEditView,
    ),
    *model_urls(
        MailRun,
        path_prefix="runs/",
        list_view=views.MailRunListView,
        detail_view=views.MailRunDetailView,
    ),
    *model_urls(
        LifecycleStage,
        path_prefix="lifecycle/",
        list_view=views.LifecycleStageListView,
        detail_view=views.LifecycleStageDetailView,
        edit_view=views.LifecycleStageEditView,
    ),
]
