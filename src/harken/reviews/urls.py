from django.urls import path

from harken.core.views.generic import model_urls

from . import views
from .models import ReviewMeeting, ReviewPack, ReviewSeries

app_name = "reviews"

urlpatterns = [
    # Series are retired (active = no), never deleted: their packs and meetings cite them.
    *model_urls(
        ReviewSeries,
        path_prefix="series/",
        list_view=views.ReviewSeriesListView,
        detail_view=views.ReviewSeriesDetailView,
        edit_view=views.ReviewSeriesEditView,
    ),
    # Packs are drafted from the data, never typed in, and never deleted once issued;
    # "add" drafts one, "edit" saves a draft's words (an issued pack refuses with 409).
    path("packs/add/", views.ReviewPackDraftView.as_view(), name="reviewpack_add"),
    path("packs/<int:pk>/edit/", views.ReviewPackEditView.as_view(), name="reviewpack_edit"),
    path(
        "packs/<int:pk>/refresh/", views.ReviewPackRefreshView.as_view(), name="reviewpack_refresh"
    ),
    path("packs/<int:pk>/issue/", views.ReviewPackIssueView.as_view(), name="reviewpack_issue"),
    path("packs/<int:pk>/revise/", views.ReviewPackReviseView.as_view(), name="reviewpack_revise"),
    path("packs/<int:pk>/verify/", views.ReviewPackVerifyView.as_view(), name="reviewpack_verify"),
    path(
        "packs/<int:pk>/document/",
        views.ReviewPackDocumentView.as_view(),
        name="reviewpack_document",
    ),
    path(
        "packs/<int:pk>/download/<slug:fmt>/",
        views.ReviewPackDownloadView.as_view(),
        name="reviewpack_download",
    ),
    path("packs/<int:pk>/slides/", views.ReviewPackSlidesView.as_view(), name="reviewpack_slides"),
    *model_urls(
        ReviewPack,
        path_prefix="packs/",
        list_view=views.ReviewPackListView,
        detail_view=views.ReviewPackDetailView,
    ),
    # Meetings: minutes and decisions have their own forms on the meeting's page; the
    # chair's approval closes the record.
    path(
        "meetings/<int:pk>/minutes/",
        views.ReviewMeetingMinutesView.as_view(),
        name="reviewmeeting_minutes",
    ),
    path(
        "meetings/<int:pk>/decide/",
        views.ReviewMeetingDecideView.as_view(),
        name="reviewmeeting_decide",
    ),
    *model_urls(
        ReviewMeeting,
        path_prefix="meetings/",
        list_view=views.ReviewMeetingListView,
        detail_view=views.ReviewMeetingDetailView,
        edit_view=views.ReviewMeetingEditView,
        transition_view=views.ReviewMeetingTransitionView,
    ),
]
