"""Order pages: enquiries, requirement reviews, offers, orders and their trace, changes,
escalations, customer notices, and the configuration behind them.

Every change goes through `services`; these views arrange records and forms, and put
the services' refusals back on the fields they name (or, for buttons, in a message).
"""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views import View

from harken.core.permissions import can, perm_name
from harken.core.scoping import scope_queryset
from harken.core.tables import Column
from harken.core.templatetags.harken import badge
from harken.core.views.generic import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    ObjectPermissionMixin,
)
from harken.core.workflow import available_transitions
from harken.documents import services as documents

from . import filters, forms, services
from .choices import (
    CHANGE_COLOURS,
    EDITABLE_ENQUIRY_STATES,
    ENQUIRY_COLOURS,
    ESCALATION_COLOURS,
    NOTICE_COLOURS,
    OFFER_COLOURS,
    OPEN_CHANGE_STATES,
    OPEN_ENQUIRY_STATES,
    ORDER_COLOURS,
    OUTCOME_COLOURS,
    SEVERITY_COLOURS,
    EnquiryStatus,
    EscalationStatus,
    NoticeStatus,
    OrderStatus,
    ReviewStatus,
)
from .models import (
    ChangeRequest,
    Enquiry,
    EnquiryAttachment,
    Escalation,
    EscalationRule,
    IntakeProfile,
    Notice,
    Offer,
    Order,
    RequirementReview,
    ReviewQuestion,
    acceptance_blockers,
    difference_review_of,
    missing_intake,
)
from .trace import order_trace


def redirect_to(obj: Any, anchor: str = "") -> HttpResponseRedirect:
    return HttpResponseRedirect(obj.get_absolute_url() + (f"#{anchor}" if anchor else ""))


class BadgeColumn(Column):
    """The record's status as a coloured badge."""

    def __init__(self, accessor: str, label: str, colours: dict[str, str], **kwargs: Any) -> None:
        super().__init__(accessor, label, **kwargs)
        object.__setattr__(self, "colours", colours)

    def value(self, obj: Any) -> Any:
        raw = getattr(obj, self.accessor)
        display = getattr(obj, f"get_{self.accessor}_display")()
        return badge(display, self.colours.get(raw, "secondary"))  # type: ignore[attr-defined]


class DeadlineColumn(Column):
    """A deadline, red once it has passed with the thing still not done."""

    def __init__(self, accessor: str, label: str, late: Callable[[Any], bool], **kw: Any) -> None:
        super().__init__(accessor, label, **kw)
        object.__setattr__(self, "late", late)

    def value(self, obj: Any) -> Any:
        at = getattr(obj, self.accessor)
        if at is None:
            return None
        text = f"{timezone.localtime(at):%Y-%m-%d %H:%M}"
        if self.late(obj):  # type: ignore[attr-defined]
            return format_html('<span class="text-danger fw-semibold" title="Late">{}</span>', text)
        return text


# --------------------------------------------------------------------------------------
# Bases: a record page with only the manual moves, a one-step form, a move by button
# --------------------------------------------------------------------------------------


class DetailView(ObjectDetailView):
    """A record page whose header offers only the moves a person makes by button."""

    template_name = "orders/object_detail.html"
    buttons: ClassVar[frozenset[str]] = frozenset()
    colours: ClassVar[dict[str, str]] = {}

    def get_extra_context(self, obj: Any) -> dict[str, Any]:
        return {
            "buttons": [
                (t, blockers)
                for t, blockers in available_transitions(obj, self.request.user)
                if t.name in self.buttons
            ],
            "status_colour": self.colours.get(getattr(obj, "status", ""), "secondary")
            if self.colours
            else "",
            **self.more_context(obj),
        }

    def more_context(self, obj: Any) -> dict[str, Any]:
        return {}

    def may(self, verb: str, model: type[models.Model] | None = None) -> bool:
        return can(self.request.user, verb, model or self.model)


class StepView(ObjectPermissionMixin, View, metaclass=ABCMeta):
    """One step of a workflow as a form: shown on its own page, posted to a service.

    `act(obj, form)` calls the service and returns the record to go to; a service's
    ValidationError comes back on the form's fields (422).
    """

    required_verb = "change"
    template_name = "orders/form.html"
    title: ClassVar[str] = ""
    submit: ClassVar[str] = "Save"
    intro: ClassVar[str] = ""
    success: ClassVar[str] = "Saved."
    parent: ClassVar[type[models.Model] | None] = None  # the record in the URL, if not `model`

    def get_object(self, pk: int | None) -> Any:
        if pk is None:
            return None
        model = self.parent or self.model
        queryset = scope_queryset(self.request.user, model._default_manager.all())
        return get_object_or_404(self.scope(queryset), pk=pk)

    def scope(self, queryset: QuerySet) -> QuerySet:
        return queryset

    @abstractmethod
    def make_form(self, obj: Any, data: Any = None, files: Any = None) -> Any:
        """The step's form, bound to `data` and `files` when they are given."""

    @abstractmethod
    def act(self, obj: Any, form: Any) -> Any:
        """Carry out the step with a valid form; returns the record to show next."""

    def more(self, obj: Any) -> dict[str, Any]:
        return {}

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        obj = self.get_object(pk)
        return self.show(obj, self.make_form(obj))

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        obj = self.get_object(pk)
        form = self.make_form(obj, data=request.POST, files=request.FILES)
        if form.is_valid():
            try:
                target = self.act(obj, form)
            except ValidationError as exc:
                forms.field_errors(form, exc)
            else:
                messages.success(request, self.success_message(target))
                return redirect_to(target)
        return self.show(obj, form, status=422)

    def success_message(self, target: Any) -> str:
        return self.success

    def show(self, obj: Any, form: Any, status: int = 200) -> HttpResponse:
        context = self.base_context(
            object=obj,
            form=form,
            title=self.title,
            submit=self.submit,
            intro=self.intro,
            **self.more(obj),
        )
        return render(self.request, self.template_name, context, status=status)


Action = Callable[[Any, Any, Any], Any]


class MoveView(ObjectPermissionMixin, View):
    """A named move posted by a button or a small form: `moves[name](obj, user, POST)`.

    A refusal (a guard, a missing reason) is shown as a message on the record's page;
    a move by someone who may not make it is refused with 403.
    """

    http_method_names = ["post"]
    required_verb = "change"
    moves: ClassVar[dict[str, Action]] = {}

    def post(self, request: HttpRequest, pk: int, name: str) -> HttpResponse:
        move = self.moves.get(name)
        if move is None:
            raise Http404(f"No move named {name}.")
        obj = get_object_or_404(self.get_queryset(), pk=pk)
        try:
            result = move(obj, request.user, request.POST)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return redirect_to(obj)
        target = result if hasattr(result, "get_absolute_url") else obj
        status = getattr(obj, "get_status_display", None)
        messages.success(request, f"{obj}: {status() if status else 'done'}.")
        return redirect_to(target)


def reason_of(post: Any, *names: str) -> str:
    for name in (*names, "reason"):
        if post.get(name):
            return str(post[name])
    return ""


# --------------------------------------------------------------------------------------
# Enquiries
# --------------------------------------------------------------------------------------


def enquiry_late(e: Enquiry) -> bool:
    return (
        e.first_responded_at is None
        and e.status in OPEN_ENQUIRY_STATES
        and e.first_response_due < timezone.now()
    )


ENQUIRY_COLUMNS: tuple[Column, ...] = (
    Column("number", "Number", order_by="number", link=True),
    Column("customer", "Customer", order_by="customer__name"),
    Column("received_at", "Received", order_by="received_at"),
    Column("product_line", "Product line"),
    BadgeColumn("status", "Status", ENQUIRY_COLOURS, order_by="status"),
    DeadlineColumn(
        "first_response_due", "First response due", enquiry_late, order_by="first_response_due"
    ),
    Column("first_responded_at", "First responded"),
    Column("owner", "Handled by"),
)
ENQUIRY_EXPORT: tuple[Column, ...] = (
    Column("number", "Number"),
    Column("customer.number", "Customer number"),
    Column("customer.name", "Customer"),
    Column("contact.name", "Contact"),
    Column("received_at", "Received"),
    Column("received_via.number", "Received via"),
    Column("customer_reference", "Customer reference"),
    Column("product_line.name", "Product line"),
    Column("requested_scope", "Requested scope"),
    Column("requirements_stated", "Stated requirements"),
    Column("requirements_implied", "Implied requirements"),
    Column("requirements_statutory", "Statutory and regulatory"),
    Column("requirements_ours", "Our own requirements"),
    Column("requested_delivery", "Requested delivery"),
    Column("special_handling", "Special handling"),
    Column("customer_property", "Customer property"),
    Column("status", "Status"),
    Column("first_response_due", "First response due"),
    Column("first_responded_at", "First responded"),
    Column("owner.username", "Handled by"),
)


class EnquiryListView(ObjectListView):
    model = Enquiry
    queryset = Enquiry.objects.select_related(
        "customer", "product_line", "owner", "contact", "received_via"
    )
    filterset_class = filters.EnquiryFilterSet
    default_order = "-received_at"
    columns = ENQUIRY_COLUMNS
    export_columns = ENQUIRY_EXPORT


class EnquiryDetailView(DetailView):
    model = Enquiry
    queryset = Enquiry.objects.select_related(
        "customer", "contact", "product_line", "owner", "received_via", "first_response"
    )
    template_name = "orders/enquiry_detail.html"
    buttons = frozenset({"start_review", "resume"})
    colours = ENQUIRY_COLOURS
    fields = (
        Column("customer", "Customer", link=True),
        Column("contact", "Contact", link=True),
        Column("received_at", "Received"),
        Column("received_via", "Received via", link=True),
        Column("customer_reference", "Customer's reference"),
        Column("product_line", "Product line", link=True),
        Column("requested_delivery", "Requested delivery"),
        Column("customer_property", "Customer property involved"),
        Column("owner", "Handled by"),
        Column("first_response_due", "First response due"),
        Column("first_responded_at", "First responded"),
        Column("first_response", "First response", link=True),
        Column("lost_reason", "Why lost"),
    )

    def more_context(self, obj: Any) -> dict[str, Any]:
        from harken.communications.services import communications_about

        may_change = self.may("change")
        return {
            "missing": missing_intake(obj),
            "required": services.intake_for(obj.product_line_id).required_fields,
            "late": enquiry_late(obj),
            "reviews": obj.reviews.select_related("reviewer").order_by("-round", "-pk"),
            "offers": obj.offers.order_by("-issued_at"),
            "orders": obj.orders.order_by("-acceptance_received_at"),
            "attachments": obj.attachments.select_related("file"),
            "communications": communications_about(obj).select_related("staff")[:50],
            "may_change": may_change,
            "editable": may_change and obj.status in EDITABLE_ENQUIRY_STATES,
            "hide_edit": obj.status not in EDITABLE_ENQUIRY_STATES,
            "may_offer": self.may("add", Offer)
            and obj.status in {EnquiryStatus.REVIEWED, EnquiryStatus.QUOTED},
            "may_record_order": self.may("add", Order) and obj.status in OPEN_ENQUIRY_STATES,
            "may_lose": may_change and obj.status in OPEN_ENQUIRY_STATES,
            "exchange_form": forms.ExchangeForm(customer=obj.customer),
            "attach_form": forms.AttachForm(),
            "lose_form": forms.ReasonForm(),
        }


class EnquiryAddView(StepView):
    model = Enquiry
    required_verb = "add"
    title = "New enquiry"
    submit = "Record the enquiry"
    success = "Enquiry recorded."

    def make_form(self, obj: Any, data: Any = None, files: Any = None) -> Any:
        initial: dict[str, Any] = {}
        customer = self.request.GET.get("customer", "")
        if customer.isdigit():
            initial["customer"] = int(customer)
        communication = self.request.GET.get("communication", "")
        if communication.isdigit():
            from harken.communications.models import Communication

            found = Communication.objects.filter(pk=int(communication)).first()
            if found is not None:
                initial["received_via"] = found.pk
                initial["customer"] = found.customer_id
                initial["requested_scope"] = found.subject
                initial["requirements_stated"] = found.body[:5000]
                contact = found.contacts.order_by("pk").first()
                if contact is not None:
                    initial["contact"] = contact.pk
        form = forms.EnquiryForm(data=data, files=files, initial=initial)
        if communication.isdigit() and data is None and "received_via" in initial:
            form.fields["received_at"].initial = None
        return form

    def act(self, obj: Any, form: Any) -> Any:
        return services.record_enquiry(form.intake(self.request.user), actor=self.request.user)

    def success_message(self, target: Any) -> str:
        return f"{target.number} recorded; first response due {timezone.localtime(target.first_response_due):%Y-%m-%d %H:%M}."


class EnquiryEditView(StepView):
    model = Enquiry
    title = "Complete the intake"
    success = "Intake saved."

    def make_form(self, obj: Any, data: Any = None, files: Any = None) -> Any:
        return forms.EnquiryForm(
            data=data, files=files, initial=forms.EnquiryForm.initial_for(obj), editing=True
        )

    def act(self, obj: Any, form: Any) -> Any:
        return services.update_enquiry(obj, actor=self.request.user, **form.changes())


class EnquiryMoveView(MoveView):
    model = Enquiry
    moves = {
        "start_review": lambda e, user, post: services.start_review(e, actor=user),
        "resume": lambda e, user, post: services.start_review(e, actor=user),
        "lose": lambda e, user, post: services.lose_enquiry(
            e, actor=user, reason=reason_of(post, "lost_reason")
        ),
    }


class ExchangeView(StepView):
    """Log a communication about an enquiry, order or change (an answer, a question)."""

    title = "Log a communication about it"
    submit = "Log it"
    success = "Logged in the communication log."

    def make_form(self, obj: Any, data: Any = None, files: Any = None) -> Any:
        return forms.ExchangeForm(data=data, files=files, customer=obj.customer)

    def act(self, obj: Any, form: Any) -> Any:
        services.log_exchange(obj, actor=self.request.user, **form.values())
        return obj


class EnquiryExchangeView(ExchangeView):
    model = Enquiry


class EnquiryAttachView(StepView):
    model = Enquiry
    title = "Attach a file"
    submit = "Attach"
    success = "File attached."

    def make_form(self, obj: Any, data: Any = None, files: Any = None) -> Any:
        return forms.AttachForm(data=data, files=files)

    def act(self, obj: Any, form: Any) -> Any:
        services.attach_file(
            obj,
            actor=self.request.user,
            upload=form.cleaned_data["file"],
            description=form.cleaned_data.get("description", ""),
        )
        return obj


class OfferAddView(StepView):
    """Issue an offer for a reviewed enquiry (`enquiries/<pk>/offer/`)."""

    model = Offer
    parent = Enquiry
    required_verb = "add"
    title = "Issue an offer"
    submit = "Record the offer as issued"
    intro = (
        "The documents you choose are recorded as given to the customer with this offer; "
        "only approved versions are offered."
    )

    def make_form(self, obj: Any, data: Any = None, files: Any = None) -> Any:
        initial = {
            "scope": obj.requested_scope,
            "requirements": "\n".join(
                part
                for part in (
                    obj.requirements_stated,
                    obj.requirements_implied,
                    obj.requirements_statutory,
                    obj.requirements_ours,
                )
                if part
            ),
            "delivery_date": obj.requested_delivery,
        }
        return forms.OfferForm(data=data, files=files, initial=initial)

    def more(self, obj: Any) -> dict[str, Any]:
        blockers = []
        if obj.passed_review() is None:
            blockers.append(f"{obj.number} has no completed requirement review that accepts it")
        return {"blockers": blockers}

    def act(self, obj: Any, form: Any) -> Any:
        return services.issue_offer(obj, actor=self.request.user, terms=form.terms())

    def success_message(self, target: Any) -> str:
        return f"{target.number} recorded as issued."


class AcceptanceAddView(StepView):
    """Record the customer's acceptance: the order, waiting for ours."""

    model = Order
    parent = Enquiry
    required_verb = "add"
    title = "Record the customer's acceptance"
    submit = "Record the order"
    intro = (
        "What the customer sent to accept. The order is accepted on its own page, once the "
        "requirement review is complete and any difference from the offer is reviewed."
    )

    def make_form(self, obj: Any, data: Any = None, files: Any = None) -> Any:
        return forms.AcceptanceForm(data=data, files=files, enquiry=obj)

    def act(self, obj: Any, form: Any) -> Any:
        return services.record_acceptance(
            obj,
            actor=self.request.user,
            record=form.record(),
            offer=form.cleaned_data.get("offer"),
        )

    def success_message(self, target: Any) -> str:
        return f"{target.number} recorded, waiting for acceptance."


# --------------------------------------------------------------------------------------
# Requirement reviews
# --------------------------------------------------------------------------------------


class RequirementReviewListView(ObjectListView):
    model = RequirementReview
    queryset = RequirementReview.objects.select_related("enquiry__customer", "reviewer", "order")
    filterset_class = filters.RequirementReviewFilterSet
    default_order = "-created_at"
    columns = (
        Column("number", "Number", order_by="number", link=True),
        Column("enquiry", "Enquiry", link=False),
        Column("enquiry.customer", "Customer"),
        Column("kind", "Kind"),
        Column("round", "Round"),
        BadgeColumn("status", "Status", {"open": "warning", "completed": "success"}),
        Column("outcome", "Outcome", order_by="outcome"),
        Column("reviewer", "Reviewer"),
        Column("completed_at", "Completed", order_by="completed_at"),
    )


class RequirementReviewDetailView(DetailView):
    model = RequirementReview
    queryset = RequirementReview.objects.select_related(
        "enquiry__customer", "order", "reviewer", "evidence"
    ).prefetch_related("answers")
    template_name = "orders/requirementreview_detail.html"
    colours = {"open": "warning", "completed": "success"}
    fields = (
        Column("enquiry", "Enquiry", link=True),
        Column("order", "Order", link=True),
        Column("kind", "Kind"),
        Column("round", "Round"),
        Column("reviewer", "Reviewer"),
        Column("completed_at", "Completed"),
        Column("outcome", "Outcome"),
    )

    def more_context(self, obj: Any) -> dict[str, Any]:
        editable = obj.status == ReviewStatus.OPEN and self.may("change")
        return {
            "form": forms.ReviewForm(review=obj) if editable else None,
            "editable": editable,
            "outcome_colour": OUTCOME_COLOURS.get(obj.outcome, "secondary"),
        }


class RequirementReviewSaveView(ObjectPermissionMixin, View):
    """Save the answers so far, or complete the review (the button says which)."""

    model = RequirementReview
    required_verb = "change"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        review = get_object_or_404(RequirementReview.objects.select_related("enquiry"), pk=pk)
        form = forms.ReviewForm(data=request.POST, files=request.FILES, review=review)
        if form.is_valid():
            try:
                if "complete" in request.POST:
                    services.complete_review(review, actor=request.user, data=form.review_input())
                    messages.success(
                        request, f"{review.number} completed: {review.get_outcome_display()}."
                    )
                    return redirect_to(review.order or review.enquiry)
                services.save_review(review, actor=request.user, data=form.review_input())
            except ValidationError as exc:
                forms.field_errors(form, exc)
            else:
                messages.success(request, f"{review.number}: answers saved.")
                return redirect_to(review)
        view = RequirementReviewDetailView()
        view.setup(request, pk=pk)
        context = view.base_context(
            object=review,
            fields=[(c.label, c.value(review), c.link) for c in view.fields],
            buttons=[],
            status_colour="warning",
            form=form,
            editable=True,
            history_url=reverse("orders:requirementreview_history", args=[review.pk]),
        )
        return render(request, view.template_name, context, status=422)


# --------------------------------------------------------------------------------------
# Offers
# --------------------------------------------------------------------------------------


class OfferListView(ObjectListView):
    model = Offer
    queryset = Offer.objects.select_related("enquiry__customer", "review")
    filterset_class = filters.OfferFilterSet
    default_order = "-issued_at"
    columns = (
        Column("number", "Number", order_by="number", link=True),
        Column("enquiry", "Enquiry"),
        Column("enquiry.customer", "Customer"),
        Column("issued_at", "Issued", order_by="issued_at"),
        Column("delivery_date", "Delivery"),
        Column("price", "Price"),
        Column("currency", "Currency"),
        BadgeColumn("status", "Status", OFFER_COLOURS, order_by="status"),
    )


class OfferDetailView(DetailView):
    model = Offer
    queryset = Offer.objects.select_related("enquiry__customer", "review", "file", "sent_via")
    template_name = "orders/offer_detail.html"
    colours = OFFER_COLOURS
    fields = (
        Column("enquiry", "Enquiry", link=True),
        Column("enquiry.customer", "Customer", link=True),
        Column("review", "Requirement review", link=True),
        Column("issued_at", "Issued"),
        Column("valid_until", "Valid until"),
        Column("delivery_date", "Delivery date"),
        Column("price", "Price"),
        Column("currency", "Currency"),
        Column("sent_via", "Sent with", link=True),
        Column("closing_reason", "Why rejected or withdrawn"),
    )

    def more_context(self, obj: Any) -> dict[str, Any]:
        return {
            "distributions": documents.distributions_via(obj),
            "orders": obj.orders.all(),
            "may_close": self.may("change") and obj.status == "issued",
            "close_form": forms.ReasonForm(),
        }


def close_offer_by(name: str) -> Action:
    def move(offer: Any, user: Any, post: Any) -> Any:
        return services.close_offer(
            offer, actor=user, name=name, reason=reason_of(post, "closing_reason")
        )

    return move


class OfferMoveView(MoveView):
    model = Offer
    moves = {name: close_offer_by(name) for name in ("reject", "withdraw")}


# --------------------------------------------------------------------------------------
# Orders
# --------------------------------------------------------------------------------------

ORDER_COLUMNS: tuple[Column, ...] = (
    Column("number", "Number", order_by="number", link=True),
    Column("customer", "Customer", order_by="customer__name"),
    Column("customer_reference", "Customer's reference"),
    Column("enquiry", "Enquiry"),
    Column("acceptance_received_at", "Received", order_by="acceptance_received_at"),
    BadgeColumn("status", "Status", ORDER_COLOURS, order_by="status"),
    Column("delivery_date", "Delivery", order_by="delivery_date"),
    Column("version", "Version"),
)
ORDER_EXPORT: tuple[Column, ...] = (
    Column("number", "Number"),
    Column("customer.number", "Customer number"),
    Column("customer.name", "Customer"),
    Column("customer_reference", "Customer reference"),
    Column("enquiry.number", "Enquiry"),
    Column("offer.number", "Offer"),
    Column("acceptance_kind", "Accepted by the customer with"),
    Column("acceptance_received_at", "Acceptance received"),
    Column("acceptance_file.sha256", "Acceptance SHA-256"),
    Column("differs_from_offer", "Differs from the offer"),
    Column("status", "Status"),
    Column("accepted_by.username", "Accepted by"),
    Column("accepted_at", "Accepted at"),
    Column("scope", "Scope"),
    Column("delivery_date", "Delivery date"),
    Column("price", "Price"),
    Column("currency", "Currency"),
    Column("customer_property", "Customer property"),
    Column("version", "Version"),
)


class OrderListView(ObjectListView):
    model = Order
    queryset = Order.objects.select_related(
        "customer", "enquiry", "offer", "acceptance_file", "accepted_by"
    )
    filterset_class = filters.OrderFilterSet
    default_order = "-acceptance_received_at"
    columns = ORDER_COLUMNS
    export_columns = ORDER_EXPORT


class OrderDetailView(DetailView):
    model = Order
    queryset = Order.objects.select_related(
        "customer",
        "contact",
        "enquiry",
        "offer",
        "acceptance_file",
        "acceptance_via",
        "accepted_by",
    )
    template_name = "orders/order_detail.html"
    buttons = frozenset({"complete"})
    colours = ORDER_COLOURS
    fields = (
        Column("customer", "Customer", link=True),
        Column("contact", "Contact", link=True),
        Column("enquiry", "Enquiry", link=True),
        Column("offer", "Offer", link=True),
        Column("acceptance_kind", "Accepted by the customer with"),
        Column("customer_reference", "Customer's reference"),
        Column("acceptance_received_at", "Acceptance received"),
        Column("acceptance_via", "Received with", link=True),
        Column("accepted_by", "Accepted by"),
        Column("accepted_at", "Accepted at"),
        Column("version", "Current version"),
        Column("closing_reason", "Why refused or cancelled"),
    )

    def more_context(self, obj: Any) -> dict[str, Any]:
        may_change = self.may("change")
        pending = obj.status == OrderStatus.PENDING
        return {
            "blockers": acceptance_blockers(obj) if pending else [],
            "pending": pending,
            "may_accept": may_change and pending,
            "may_change": may_change,
            "difference_review": difference_review_of(obj),
            "difference_reviews": obj.difference_reviews.select_related("reviewer").order_by(
                "-round"
            ),
            "versions": obj.versions.select_related("change").order_by("-number"),
            "changes": obj.changes.order_by("-requested_at"),
            "escalations": obj.escalations.order_by("-raised_at"),
            "distributions": documents.distributions_via(obj),
            "may_request_change": self.may("add", ChangeRequest)
            and obj.status == OrderStatus.ACCEPTED,
            "may_close": may_change and obj.status in {OrderStatus.PENDING, OrderStatus.ACCEPTED},
            "differences_form": forms.DifferencesForm(initial={"differences": obj.differences}),
            "close_form": forms.ReasonForm(),
            "exchange_form": forms.ExchangeForm(customer=obj.customer),
            "change_colours": CHANGE_COLOURS,
        }


class OrderAcceptView(StepView):
    model = Order
    title = "Accept the order"
    submit = "Accept the order"
    intro = (
        "Accepting commits us to the order's terms. It needs a completed requirement review of "
        "the enquiry, the customer's acceptance on file, and any difference from the offer "
        "reviewed."
    )

    def make_form(self, obj: Any, data: Any = None, files: Any = None) -> Any:
        return forms.AcceptForm(
            data=data, files=files, initial={"customer_reference": obj.customer_reference}
        )

    def more(self, obj: Any) -> dict[str, Any]:
        blockers = acceptance_blockers(obj)
        if obj.acceptance_file_id is None:
            blockers = [b for b in blockers if not b.startswith("attach")]
        return {"blockers": blockers}

    def act(self, obj: Any, form: Any) -> Any:
        data = form.cleaned_data
        return services.accept_order(
            obj,
            actor=self.request.user,
            file=data.get("file"),
            customer_reference=data.get("customer_reference", ""),
            versions=list(data.get("documents") or []),
        )

    def success_message(self, target: Any) -> str:
        return f"{target.number} accepted (version 1)."


class OrderDifferencesView(StepView):
    model = Order
    title = "How the accepted terms differ from the offer"

    def make_form(self, obj: Any, data: Any = None, files: Any = None) -> Any:
        return forms.DifferencesForm(data=data, initial={"differences": obj.differences})

    def act(self, obj: Any, form: Any) -> Any:
        return services.note_differences(
            obj, actor=self.request.user, differences=form.cleaned_data["differences"]
        )


class OrderMoveView(MoveView):
    model = Order
    moves = {
        "review_differences": lambda o, user, post: services.review_differences(o, actor=user),
        "complete": lambda o, user, post: services.close_order(o, actor=user, name="complete"),
        "refuse": lambda o, user, post: services.close_order(
            o, actor=user, name="refuse", reason=reason_of(post, "closing_reason")
        ),
        "cancel": lambda o, user, post: services.close_order(
            o, actor=user, name="cancel", reason=reason_of(post, "closing_reason")
        ),
    }


class OrderExchangeView(ExchangeView):
    model = Order
    title = "Log a communication about the order"


class OrderTraceView(ObjectPermissionMixin, View):
    """The order's story on one page, from the enquiry to the feedback about it."""

    model = Order

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        order = get_object_or_404(
            self.get_queryset().select_related(
                "customer",
                "enquiry__received_via",
                "enquiry__owner",
                "offer",
                "acceptance_file",
                "acceptance_via",
                "accepted_by",
            ),
            pk=pk,
        )
        context = self.base_context(object=order, steps=order_trace(order))
        return render(request, "orders/order_trace.html", context)


# --------------------------------------------------------------------------------------
# Changes
# --------------------------------------------------------------------------------------


def change_late(c: ChangeRequest) -> bool:
    return c.status in OPEN_CHANGE_STATES and c.confirmation_due < timezone.now()


class ChangeRequestListView(ObjectListView):
    model = ChangeRequest
    queryset = ChangeRequest.objects.select_related("order__customer")
    filterset_class = filters.ChangeRequestFilterSet
    default_order = "-requested_at"

    def base_context(self, **extra: Any) -> dict[str, Any]:
        # A change is requested from its order's page (the add page needs the order).
        return {**super().base_context(**extra), "can_add": False}

    columns = (
        Column("number", "Number", order_by="number", link=True),
        Column("order", "Order"),
        Column("order.customer", "Customer"),
        Column("origin", "Origin"),
        Column("aspect_labels", "What changes"),
        Column("requested_at", "Requested", order_by="requested_at"),
        BadgeColumn("status", "Status", CHANGE_COLOURS, order_by="status"),
        DeadlineColumn(
            "confirmation_due", "Confirmation due", change_late, order_by="confirmation_due"
        ),
    )


class ChangeRequestDetailView(DetailView):
    model = ChangeRequest
    queryset = ChangeRequest.objects.select_related(
        "order__customer",
        "received_via",
        "impact_reviewed_by",
        "communicated_via",
        "confirmation_file",
        "confirmed_via",
    )
    template_name = "orders/changerequest_detail.html"
    colours = CHANGE_COLOURS
    fields = (
        Column("order", "Order", link=True),
        Column("order.customer", "Customer", link=True),
        Column("origin", "Origin"),
        Column("requested_at", "Requested"),
        Column("received_via", "Requested with", link=True),
        Column("aspect_labels", "What changes"),
        Column("confirmation_due", "Confirmation due"),
        Column("impact_reviewed_by", "Feasibility confirmed by"),
        Column("impact_reviewed_at", "Impact reviewed"),
        Column("feasible", "Feasible"),
        Column("communicated_via", "Communicated with", link=True),
        Column("confirmed_at", "Confirmed"),
        Column("confirmation_reference", "Confirmation reference"),
        Column("confirmed_via", "Confirmed with", link=True),
        Column("closing_reason", "Why rejected"),
    )

    def more_context(self, obj: Any) -> dict[str, Any]:
        from .choices import ASPECT_FIELDS, ChangeAspect

        rows = []
        for aspect in obj.aspects:
            order_field, new_field = ASPECT_FIELDS[aspect]
            rows.append(
                (
                    ChangeAspect(aspect).label,
                    getattr(obj.order, order_field),
                    getattr(obj, new_field),
                )
            )
        may_change = self.may("change")
        return {
            "rows": rows,
            "late": change_late(obj),
            "version": getattr(obj, "order_version", None),
            "may_change": may_change,
            "impact_form": forms.ImpactForm(),
            "close_form": forms.ReasonForm(),
        }


class ChangeRequestAddView(StepView):
    """Request a change to an order (`changes/add/?order=<pk>`)."""

    model = ChangeRequest
    required_verb = "add"
    title = "Request a change to the order"
    submit = "Record the change request"
    intro = "The order takes the change only when the customer has confirmed it."

    def get_object(self, pk: int | None) -> Any:
        ref = self.request.GET.get("order", "")
        if not ref.isdigit():
            raise Http404("Open this page from an order.")
        return get_object_or_404(Order, pk=int(ref))

    def make_form(self, obj: Any, data: Any = None, files: Any = None) -> Any:
        return forms.ChangeForm(data=data, files=files)

    def act(self, obj: Any, form: Any) -> Any:
        return services.request_change(obj, actor=self.request.user, proposal=form.proposal())

    def success_message(self, target: Any) -> str:
        return f"{target.number} recorded; not effective until the customer confirms it."


class ChangeImpactView(StepView):
    model = ChangeRequest
    title = "Review the impact"
    submit = "Record the impact review"

    def make_form(self, obj: Any, data: Any = None, files: Any = None) -> Any:
        return forms.ImpactForm(data=data)

    def act(self, obj: Any, form: Any) -> Any:
        return services.review_impact(
            obj,
            actor=self.request.user,
            feasible=form.cleaned_data["feasible"] == "yes",
            impact=form.cleaned_data["impact"],
        )


class ChangeCommunicateView(StepView):
    model = ChangeRequest
    title = "Tell the customer about the change"
    submit = "Record our communication"

    def make_form(self, obj: Any, data: Any = None, files: Any = None) -> Any:
        initial = {
            "subject": f"Change {obj.number} to your order "
            f"{obj.order.customer_reference or obj.order.number}",
            "body": f"{obj.description}\n\n{obj.impact_summary}".strip(),
        }
        return forms.CommunicateForm(
            data=data, files=files, customer=obj.order.customer, initial=initial
        )

    def act(self, obj: Any, form: Any) -> Any:
        data = form.cleaned_data
        services.communicate_change(
            obj,
            actor=self.request.user,
            communication=data.get("communication"),
            channel=data["channel"],
            subject=data.get("subject", ""),
            body=data.get("body", ""),
            contacts=list(data.get("contacts") or []),
            versions=list(data.get("documents") or []),
        )
        return obj


class ChangeConfirmView(StepView):
    model = ChangeRequest
    title = "Record the customer's confirmation"
    submit = "Confirm: the change takes effect"

    def make_form(self, obj: Any, data: Any = None, files: Any = None) -> Any:
        return forms.ConfirmForm(data=data, files=files)

    def more(self, obj: Any) -> dict[str, Any]:
        from harken.core.workflow import get_transition

        blockers = get_transition(obj, "confirm").blockers(obj)
        return {"blockers": [b for b in blockers if not b.startswith("attach")]}

    def act(self, obj: Any, form: Any) -> Any:
        data = form.cleaned_data
        version = services.confirm_change(
            obj,
            actor=self.request.user,
            file=data["file"],
            reference=data.get("reference", ""),
            confirmed_at=data.get("confirmed_at"),
            via=data.get("via"),
        )
        return version.order

    def success_message(self, target: Any) -> str:
        return f"Change confirmed: {target.number} is now version {target.version}."


class ChangeRequestMoveView(MoveView):
    model = ChangeRequest
    moves = {
        "reject": lambda c, user, post: services.reject_change(
            c, actor=user, reason=reason_of(post, "closing_reason")
        ),
    }


# --------------------------------------------------------------------------------------
# Escalations and notices
# --------------------------------------------------------------------------------------


def escalation_late(e: Escalation) -> bool:
    return e.breached


class EscalationListView(ObjectListView):
    model = Escalation
    queryset = Escalation.objects.select_related("customer", "order")
    filterset_class = filters.EscalationFilterSet
    default_order = "-raised_at"
    columns = (
        Column("number", "Number", order_by="number", link=True),
        Column("title", "Title", link=True),
        Column("customer", "Customer", order_by="customer__name"),
        Column("order", "Order"),
        Column("event_type", "Event", order_by="event_type"),
        BadgeColumn("severity", "Severity", SEVERITY_COLOURS, order_by="severity"),
        Column("raised_at", "Raised", order_by="raised_at"),
        DeadlineColumn("notice_due", "Customer told by", escalation_late, order_by="notice_due"),
        Column("customer_told_at", "Customer told"),
        BadgeColumn("status", "Status", ESCALATION_COLOURS, order_by="status"),
    )
    export_columns = (
        Column("number", "Number"),
        Column("title", "Title"),
        Column("customer.name", "Customer"),
        Column("order.number", "Order"),
        Column("event_type", "Event"),
        Column("severity", "Severity"),
        Column("raised_at", "Raised"),
        Column("notice_due", "Customer told by"),
        Column("customer_told_at", "Customer told"),
        Column("breached", "Deadline missed"),
        Column("breach_explanation", "Why late"),
        Column("approver_role", "Notice approved by"),
        Column("escalate_to_role", "Escalated to"),
        Column("status", "Status"),
    )


class EscalationDetailView(DetailView):
    model = Escalation
    queryset = Escalation.objects.select_related("customer", "order", "rule__notice_template")
    template_name = "orders/escalation_detail.html"
    buttons = frozenset({"close"})
    colours = ESCALATION_COLOURS
    fields = (
        Column("customer", "Customer", link=True),
        Column("order", "Order", link=True),
        Column("event_type", "Event"),
        Column("severity", "Severity"),
        Column("occurred_at", "Occurred"),
        Column("raised_at", "Raised"),
        Column("rule", "Matrix rule", link=True),
        Column("approver_role", "Notice approved by"),
        Column("escalate_to_role", "Escalated to"),
        Column("told_text", "People told"),
        Column("notice_due", "Customer to be told by"),
        Column("customer_told_at", "Customer told"),
        Column("closed_at", "Closed"),
    )

    def more_context(self, obj: Any) -> dict[str, Any]:
        from harken.communications.services import communications_about

        open_ = obj.status != EscalationStatus.CLOSED
        may_change = self.may("change")
        return {
            "records": [(item, obj.records.get(item, "")) for item in obj.records_required]
            + [(k, v) for k, v in obj.records.items() if k not in obj.records_required],
            "notices": obj.notices.select_related("approved_by", "communication", "contact"),
            "template": services.notice_template(obj),
            "may_change": may_change and open_,
            "may_draft": self.may("add", Notice) and open_ and obj.customer_impacting,
            "record_form": forms.RecordItemForm(
                initial={"item": (obj.missing_records() or [""])[0]}
            ),
            "explain_form": forms.ExplainForm(initial={"explanation": obj.breach_explanation}),
            "draft_form": forms.NoticeDraftForm(escalation=obj),
            "communications": communications_about(obj)[:50],
            "notice_colours": NOTICE_COLOURS,
        }


class EscalationAddView(StepView):
    """Raise an event against the matrix (`?customer=<pk>` or `?order=<pk>`)."""

    model = Escalation
    required_verb = "add"
    title = "Raise an escalation"
    submit = "Raise it"
    intro = (
        "The escalation matrix decides who approves the customer notice, whom it is escalated "
        "to, how soon the customer must be told and what must be recorded."
    )

    def make_form(self, obj: Any, data: Any = None, files: Any = None) -> Any:
        initial: dict[str, Any] = {}
        order = self.request.GET.get("order", "")
        customer = self.request.GET.get("customer", "")
        if order.isdigit():
            found = Order.objects.filter(pk=int(order)).first()
            if found is not None:
                initial.update(order=found.pk, customer=found.customer_id)
        elif customer.isdigit():
            initial["customer"] = int(customer)
        return forms.EscalationForm(data=data, initial=initial)

    def act(self, obj: Any, form: Any) -> Any:
        data = form.cleaned_data
        return services.raise_escalation(
            actor=self.request.user,
            customer=data["customer"],
            order=data.get("order"),
            event_type=data["event_type"],
            severity=data["severity"],
            title=data["title"],
            description=data["description"],
            occurred_at=data.get("occurred_at"),
        )

    def success_message(self, target: Any) -> str:
        if target.notice_due:
            return (
                f"{target.number} raised; the customer must be told by "
                f"{timezone.localtime(target.notice_due):%Y-%m-%d %H:%M}."
            )
        return f"{target.number} raised."


class EscalationRecordView(StepView):
    model = Escalation
    title = "Record"

    def make_form(self, obj: Any, data: Any = None, files: Any = None) -> Any:
        return forms.RecordItemForm(data=data)

    def act(self, obj: Any, form: Any) -> Any:
        return services.record_escalation_item(
            obj,
            actor=self.request.user,
            item=form.cleaned_data["item"],
            text=form.cleaned_data["text"],
        )


class EscalationExplainView(StepView):
    model = Escalation
    title = "Why the customer was told late"

    def make_form(self, obj: Any, data: Any = None, files: Any = None) -> Any:
        return forms.ExplainForm(data=data)

    def act(self, obj: Any, form: Any) -> Any:
        return services.explain_breach(
            obj, actor=self.request.user, explanation=form.cleaned_data["explanation"]
        )


class EscalationNoticeView(StepView):
    """Draft the customer notice from the approved template."""

    model = Notice
    parent = Escalation
    required_verb = "add"
    title = "Draft the customer notice"
    submit = "Draft it"

    def make_form(self, obj: Any, data: Any = None, files: Any = None) -> Any:
        return forms.NoticeDraftForm(data=data, escalation=obj)

    def act(self, obj: Any, form: Any) -> Any:
        return services.draft_notice(
            obj, actor=self.request.user, contact=form.cleaned_data.get("contact")
        )

    def success_message(self, target: Any) -> str:
        return f"{target.number} drafted; it goes out once approved."


class EscalationMoveView(MoveView):
    model = Escalation
    moves = {"close": lambda e, user, post: services.close_escalation(e, actor=user)}


class NoticeListView(ObjectListView):
    model = Notice
    queryset = Notice.objects.select_related("escalation__customer", "approved_by")
    filterset_class = filters.NoticeFilterSet
    default_order = "-created_at"
    columns = (
        Column("number", "Number", order_by="number", link=True),
        Column("subject", "Subject"),
        Column("escalation", "Escalation"),
        Column("escalation.customer", "Customer"),
        BadgeColumn("status", "Status", NOTICE_COLOURS, order_by="status"),
        Column("approved_by", "Approved by"),
        Column("sent_at", "Sent", order_by="sent_at"),
    )


class NoticeDetailView(DetailView):
    model = Notice
    queryset = Notice.objects.select_related(
        "escalation__customer",
        "template_version__document",
        "contact",
        "approved_by",
        "sent_by",
        "communication",
    )
    template_name = "orders/notice_detail.html"
    colours = NOTICE_COLOURS
    fields = (
        Column("escalation", "Escalation", link=True),
        Column("contact", "To", link=True),
        Column("template_version", "Drafted from", link=True),
        Column("approved_by", "Approved by"),
        Column("approved_at", "Approved at"),
        Column("sent_by", "Sent by"),
        Column("sent_at", "Sent at"),
        Column("communication", "Logged as", link=True),
        Column("withdrawn_reason", "Why withdrawn"),
    )

    def more_context(self, obj: Any) -> dict[str, Any]:
        from harken.core.choices import Role

        may_change = self.may("change")
        return {
            "approver_role": Role(obj.escalation.approver_role).label,
            "may_edit": may_change and obj.status == NoticeStatus.DRAFT,
            "hide_edit": obj.status != NoticeStatus.DRAFT,
            "may_approve": obj.status == NoticeStatus.DRAFT
            and services.may_approve_notice(self.request.user, obj),
            "may_send": may_change and obj.status == NoticeStatus.APPROVED,
            "may_withdraw": may_change
            and obj.status in {NoticeStatus.DRAFT, NoticeStatus.APPROVED},
            "withdraw_form": forms.ReasonForm(),
        }


class NoticeEditView(StepView):
    model = Notice
    title = "Correct the draft"

    def make_form(self, obj: Any, data: Any = None, files: Any = None) -> Any:
        return forms.NoticeEditForm(data=data, initial={"subject": obj.subject, "body": obj.body})

    def act(self, obj: Any, form: Any) -> Any:
        return services.edit_notice(obj, actor=self.request.user, **form.cleaned_data)


class NoticeMoveView(MoveView):
    model = Notice
    moves = {
        "approve": lambda n, user, post: services.approve_notice(n, actor=user),
        "send": lambda n, user, post: services.send_notice(n, actor=user),
        "withdraw": lambda n, user, post: services.withdraw_notice(
            n, actor=user, reason=reason_of(post, "withdrawn_reason")
        ),
    }


# --------------------------------------------------------------------------------------
# Configuration: the matrix, intake profiles, the checklist (generic views)
# --------------------------------------------------------------------------------------


class EscalationRuleListView(ObjectListView):
    model = EscalationRule
    queryset = EscalationRule.objects.select_related("notice_template")
    filterset_class = filters.EscalationRuleFilterSet
    default_order = "event_type"
    per_page = 100
    columns = (
        Column("event_type", "Event", order_by="event_type", link=True),
        BadgeColumn("severity", "Severity", SEVERITY_COLOURS, order_by="severity"),
        Column("approver_role", "Notice approved by"),
        Column("escalate_to_role", "Escalated to"),
        Column("deadline_text", "Customer told within"),
        Column("records_text", "What must be recorded"),
        Column("notice_template", "Notice template"),
        Column("active", "Active"),
    )


class EscalationRuleDetailView(ObjectDetailView):
    model = EscalationRule
    queryset = EscalationRule.objects.select_related("notice_template")
    fields = (
        Column("event_type", "Event"),
        Column("severity", "Severity"),
        Column("approver_role", "Notice approved by"),
        Column("escalate_to_role", "Escalated to"),
        Column("deadline_text", "Customer told within"),
        Column("records_text", "What must be recorded"),
        Column("notice_template", "Notice template", link=True),
        Column("active", "Active"),
    )


class EscalationRuleEditView(ObjectEditView):
    model = EscalationRule
    form_class = forms.EscalationRuleForm


class IntakeProfileListView(ObjectListView):
    model = IntakeProfile
    queryset = IntakeProfile.objects.select_related("product_line")
    filterset_class = filters.IntakeProfileFilterSet
    default_order = "pk"
    columns = (
        Column("product_line", "Product line", link=True),
        Column("required_labels", "Required before the review"),
        Column("first_response_days", "First response (working days)"),
        Column("change_confirmation_days", "Change confirmed (working days)"),
    )


class IntakeProfileDetailView(ObjectDetailView):
    model = IntakeProfile
    queryset = IntakeProfile.objects.select_related("product_line")
    fields = (
        Column("product_line", "Product line", link=True),
        Column("required_labels", "Required before the review"),
        Column("first_response_days", "First response within (working days)"),
        Column("change_confirmation_days", "Change confirmed within (working days)"),
        Column("notes", "Notes"),
    )


class IntakeProfileEditView(ObjectEditView):
    model = IntakeProfile
    form_class = forms.IntakeProfileForm


class IntakeProfileDeleteView(ObjectDeleteView):
    model = IntakeProfile


class ReviewQuestionListView(ObjectListView):
    model = ReviewQuestion
    queryset = ReviewQuestion.objects.select_related("product_line")
    filterset_class = filters.ReviewQuestionFilterSet
    default_order = "position"
    columns = (
        Column("position", "#", order_by="position"),
        Column("text", "Question", link=True),
        Column("product_line", "Only for"),
        Column("active", "Active"),
    )


class ReviewQuestionDetailView(ObjectDetailView):
    model = ReviewQuestion
    queryset = ReviewQuestion.objects.select_related("product_line")
    fields = (
        Column("code", "Code"),
        Column("text", "Question"),
        Column("guidance", "Guidance"),
        Column("product_line", "Only for product line", link=True),
        Column("position", "Position"),
        Column("active", "Active"),
    )


class ReviewQuestionEditView(ObjectEditView):
    model = ReviewQuestion
    form_class = forms.ReviewQuestionForm


# --------------------------------------------------------------------------------------
# Evidence files
# --------------------------------------------------------------------------------------

# kind in the URL -> (model, field holding the evidence file)
EVIDENCE: dict[str, tuple[type[models.Model], str]] = {
    "attachment": (EnquiryAttachment, "file"),
    "review": (RequirementReview, "evidence"),
    "offer": (Offer, "file"),
    "acceptance": (Order, "acceptance_file"),
    "confirmation": (ChangeRequest, "confirmation_file"),
}


class EvidenceView(View):
    """An evidence file of an order record, to whoever may view that record."""

    def get(self, request: HttpRequest, kind: str, pk: int) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return HttpResponseRedirect(f"{reverse('login')}?next={request.path}")
        if kind not in EVIDENCE:
            raise Http404("No such evidence.")
        model, field = EVIDENCE[kind]
        if not request.user.has_perm(perm_name(model, "view")):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        record = get_object_or_404(
            scope_queryset(request.user, model._default_manager.select_related(field)), pk=pk
        )
        evidence = getattr(record, field)
        if evidence is None:
            raise Http404("This record has no such file.")
        return FileResponse(
            evidence.open(),
            as_attachment=True,
            filename=evidence.name,
            content_type=evidence.content_type or "application/octet-stream",
        )
