from django.urls import path

from harken.core.views.generic import model_urls

from . import views
from .models import (
    ChangeRequest,
    Enquiry,
    Escalation,
    EscalationRule,
    IntakeProfile,
    Notice,
    Offer,
    Order,
    RequirementReview,
    ReviewQuestion,
)

app_name = "orders"

MOVE = "<int:pk>/transition/<slug:name>/"

urlpatterns = [
    # Enquiries: intake, the exchanges with the customer, the review, the offer and the
    # customer's acceptance hang off the enquiry's page. Enquiries are never deleted.
    path("enquiries/add/", views.EnquiryAddView.as_view(), name="enquiry_add"),
    path("enquiries/<int:pk>/edit/", views.EnquiryEditView.as_view(), name="enquiry_edit"),
    path(
        "enquiries/<int:pk>/exchange/",
        views.EnquiryExchangeView.as_view(),
        name="enquiry_exchange",
    ),
    path("enquiries/<int:pk>/attach/", views.EnquiryAttachView.as_view(), name="enquiry_attach"),
    path("enquiries/<int:pk>/offer/", views.OfferAddView.as_view(), name="enquiry_offer"),
    path(
        "enquiries/<int:pk>/acceptance/",
        views.AcceptanceAddView.as_view(),
        name="enquiry_acceptance",
    ),
    path(f"enquiries/{MOVE}", views.EnquiryMoveView.as_view(), name="enquiry_transition"),
    *model_urls(
        Enquiry,
        path_prefix="enquiries/",
        list_view=views.EnquiryListView,
        detail_view=views.EnquiryDetailView,
    ),
    path(
        "reviews/<int:pk>/save/",
        views.RequirementReviewSaveView.as_view(),
        name="requirementreview_save",
    ),
    *model_urls(
        RequirementReview,
        path_prefix="reviews/",
        list_view=views.RequirementReviewListView,
        detail_view=views.RequirementReviewDetailView,
    ),
    path(f"offers/{MOVE}", views.OfferMoveView.as_view(), name="offer_transition"),
    *model_urls(
        Offer,
        path_prefix="offers/",
        list_view=views.OfferListView,
        detail_view=views.OfferDetailView,
    ),
    # Orders: accepted on their own page; the trace tells their whole story.
    path("orders/<int:pk>/accept/", views.OrderAcceptView.as_view(), name="order_accept"),
    path(
        "orders/<int:pk>/differences/",
        views.OrderDifferencesView.as_view(),
        name="order_differences",
    ),
    path("orders/<int:pk>/exchange/", views.OrderExchangeView.as_view(), name="order_exchange"),
    path("orders/<int:pk>/trace/", views.OrderTraceView.as_view(), name="order_trace"),
    path(f"orders/{MOVE}", views.OrderMoveView.as_view(), name="order_transition"),
    *model_urls(
        Order,
        path_prefix="orders/",
        list_view=views.OrderListView,
        detail_view=views.OrderDetailView,
    ),
    path("changes/add/", views.ChangeRequestAddView.as_view(), name="changerequest_add"),
    path("changes/<int:pk>/impact/", views.ChangeImpactView.as_view(), name="changerequest_impact"),
    path(
        "changes/<int:pk>/communicate/",
        views.ChangeCommunicateView.as_view(),
        name="changerequest_communicate",
    ),
    path(
        "changes/<int:pk>/confirm/",
        views.ChangeConfirmView.as_view(),
        name="changerequest_confirm",
    ),
    path(f"changes/{MOVE}", views.ChangeRequestMoveView.as_view(), name="changerequest_transition"),
    *model_urls(
        ChangeRequest,
        path_prefix="changes/",
        list_view=views.ChangeRequestListView,
        detail_view=views.ChangeRequestDetailView,
    ),
    path("escalations/add/", views.EscalationAddView.as_view(), name="escalation_add"),
    path(
        "escalations/<int:pk>/record/",
        views.EscalationRecordView.as_view(),
        name="escalation_record",
    ),
    path(
        "escalations/<int:pk>/explain/",
        views.EscalationExplainView.as_view(),
        name="escalation_explain",
    ),
    path(
        "escalations/<int:pk>/notice/",
        views.EscalationNoticeView.as_view(),
        name="escalation_notice",
    ),
    path(f"escalations/{MOVE}", views.EscalationMoveView.as_view(), name="escalation_transition"),
    *model_urls(
        Escalation,
        path_prefix="escalations/",
        list_view=views.EscalationListView,
        detail_view=views.EscalationDetailView,
    ),
    path("notices/<int:pk>/edit/", views.NoticeEditView.as_view(), name="notice_edit"),
    path(f"notices/{MOVE}", views.NoticeMoveView.as_view(), name="notice_transition"),
    *model_urls(
        Notice,
        path_prefix="notices/",
        list_view=views.NoticeListView,
        detail_view=views.NoticeDetailView,
    ),
    # Configuration, owned by the quality roles.
    *model_urls(
        EscalationRule,
        path_prefix="matrix/",
        list_view=views.EscalationRuleListView,
        detail_view=views.EscalationRuleDetailView,
        edit_view=views.EscalationRuleEditView,
    ),
    *model_urls(
        IntakeProfile,
        path_prefix="intake/",
        list_view=views.IntakeProfileListView,
        detail_view=views.IntakeProfileDetailView,
        edit_view=views.IntakeProfileEditView,
        delete_view=views.IntakeProfileDeleteView,
    ),
    *model_urls(
        ReviewQuestion,
        path_prefix="checklist/",
        list_view=views.ReviewQuestionListView,
        detail_view=views.ReviewQuestionDetailView,
        edit_view=views.ReviewQuestionEditView,
    ),
    path("files/<slug:kind>/<int:pk>/", views.EvidenceView.as_view(), name="evidence"),
]
