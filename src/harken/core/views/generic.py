"""Generic pages so that each model's list, detail, edit, delete, history and
transitions are a few attributes (NetBox's object views are the model).

Every view asks the permission layer (`core/permissions.py`) through
`user.has_perm`; htmx requests get the partial, other requests the whole page.
"""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import ProtectedError, QuerySet
from django.forms import ModelForm
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.urls import get_resolver, reverse
from django.utils.text import slugify
from django.views import View
from django_filters import FilterSet

from .. import audit
from ..exports import csv_response, xlsx_response
from ..files import FileRefused
from ..models import AuditEvent
from ..pagination import BadCursor, keyset_page
from ..permissions import can, perm_name
from ..reauth import RecentPasswordRequiredMixin
from ..scoping import scope_queryset
from ..tables import Column
from ..workflow import TransitionError, apply_transition, available_transitions


def url_name(model: type[models.Model], suffix: str = "") -> str:
    """Derived URL names: `customers:customer_list`, `customers:customer`…"""
    meta = model._meta
    return f"{meta.app_label}:{meta.model_name}{'_' + suffix if suffix else ''}"


def url_exists(name: str) -> bool:
    """Whether a namespaced URL name is routed (whatever arguments it takes)."""
    namespace, _, short = name.rpartition(":")
    resolver = get_resolver()
    if namespace:
        if namespace not in resolver.namespace_dict:
            return False
        resolver = resolver.namespace_dict[namespace][1]
    return short in resolver.reverse_dict


def redirect_to(request: HttpRequest, target: str) -> HttpResponse:
    """A redirect, or for htmx an HX-Location (so the whole page follows)."""
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Location"] = target
        return response
    return HttpResponseRedirect(target)


class ObjectPermissionMixin(LoginRequiredMixin):
    """Refuses (403) a signed-in user who lacks the view's verb on its model."""

    model: ClassVar[type[models.Model]]
    required_verb: ClassVar[str] = "view"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.user.is_authenticated and not request.user.has_perm(
            perm_name(self.model, self.get_required_verb(request))
        ):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_required_verb(self, request: HttpRequest) -> str:
        return self.required_verb

    def get_queryset(self) -> QuerySet:
        """The records this person may see: all of the model's, or, for customer-facing
        staff limited to their own accounts, those of their customers (core.scoping)."""
        queryset = getattr(self, "queryset", None)
        queryset = queryset.all() if queryset is not None else self.model._default_manager.all()
        return scope_queryset(self.request.user, queryset)  # type: ignore[attr-defined]

    def base_context(self, **extra: Any) -> dict[str, Any]:
        meta = self.model._meta
        user = self.request.user  # type: ignore[attr-defined]
        return {
            "model": self.model,
            "verbose_name": meta.verbose_name,
            "verbose_name_plural": meta.verbose_name_plural,
            "list_url": reverse(url_name(self.model, "list")),
            "can_add": can(user, "add", self.model) and self.has_url("add"),
            "add_url": reverse(url_name(self.model, "add")) if self.has_url("add") else "",
            "can_change": can(user, "change", self.model),
            "can_delete": can(user, "delete", self.model),
            "can_export": can(user, "export", self.model),
            **extra,
        }

    def has_url(self, suffix: str) -> bool:
        return url_exists(url_name(self.model, suffix))


class ObjectListView(ObjectPermissionMixin, View):
    """A filterable, sortable, keyset-paginated list that exports CSV and XLSX."""

    filterset_class: ClassVar[type[FilterSet] | None] = None
    columns: ClassVar[Sequence[Column]] = ()
    export_columns: ClassVar[Sequence[Column] | None] = None
    default_order: ClassVar[str] = "-pk"
    per_page: ClassVar[int] = 50
    template_name: ClassVar[str] = "generic/object_list.html"

    def get_required_verb(self, request: HttpRequest) -> str:
        return "export" if request.GET.get("export") else "view"

    def get(self, request: HttpRequest) -> HttpResponseBase:
        queryset = self.get_queryset()
        filterset = None
        if self.filterset_class is not None:
            filterset = self.filterset_class(request.GET, queryset=queryset, request=request)
            queryset = filterset.qs if filterset.is_valid() else queryset.none()
        order = self.resolve_order(request.GET.get("sort", ""))
        export = request.GET.get("export")
        if export in {"csv", "xlsx"}:
            return self.export(queryset, order, export, filterset)
        try:
            page = keyset_page(
                queryset, order=order, cursor=request.GET.get("cursor"), per_page=self.per_page
            )
        except BadCursor as exc:
            messages.warning(request, str(exc))
            page = keyset_page(queryset, order=order, cursor=None, per_page=self.per_page)
        context = self.base_context(
            page=page,
            rows=[(obj, [column.value(obj) for column in self.columns]) for obj in page.rows],
            columns=self.columns,
            filterset=filterset,
            sort=order,
        )
        template = "generic/_object_table.html" if request.htmx else self.template_name  # type: ignore[attr-defined]
        return render(request, template, context)

    def resolve_order(self, requested: str) -> str:
        allowed = {c.order_by for c in self.columns if c.order_by}
        if requested.lstrip("-") in allowed:
            return requested
        return self.default_order

    def export(
        self, queryset: QuerySet, order: str, fmt: str, filterset: FilterSet | None
    ) -> HttpResponseBase:
        from ..pagination import order_expressions

        columns = list(self.export_columns or self.columns)
        rows = queryset.order_by(*order_expressions(order.lstrip("-"), order.startswith("-")))
        filters = {k: v for k, v in self.request.GET.items() if k not in {"export", "cursor"}}
        audit.record(
            f"{self.model._meta.model_name}.exported",
            object_type=self.model._meta.label_lower,
            object_label=str(self.model._meta.verbose_name_plural),
            changes={"format": fmt, "filters": filters, "rows": rows.count()},
        )
        name = slugify(str(self.model._meta.verbose_name_plural))
        iterator = rows.iterator(chunk_size=2000)
        if fmt == "csv":
            return csv_response(iterator, columns, name)
        return xlsx_response(iterator, columns, name, str(self.model._meta.verbose_name_plural))


class RecordStepView(ObjectPermissionMixin, View, metaclass=ABCMeta):
    """POST one step on a record (acknowledge, file, dismiss…): the step's refusal or its
    outcome becomes a message on the record's page, where the person is sent back."""

    required_verb = "change"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = get_object_or_404(self.get_queryset(), pk=pk)
        try:
            message = self.perform(obj, request)
        except (TransitionError, ValidationError) as exc:
            for error in exc.messages:
                messages.error(request, error)
        else:
            messages.success(request, message)
        return redirect_to(request, obj.get_absolute_url())

    @abstractmethod
    def perform(self, obj: Any, request: HttpRequest) -> str:
        """Take the step; return what to tell the person."""


def record_panels(request: HttpRequest, obj: models.Model) -> list[dict[str, Any]]:
    """What other apps show on this record's page (core.registry.add_record_panel)."""
    from ..registry import registry

    label = obj._meta.label_lower
    panels = (panel(request, obj) for model, panel in registry.record_panels if model == label)
    return [p for p in panels if p]


class ObjectDetailView(ObjectPermissionMixin, View):
    """One record: its fields, related records, available transitions, history link."""

    template_name: ClassVar[str] = "generic/object_detail.html"
    fields: ClassVar[Sequence[Column]] = ()

    def get_object(self, pk: int) -> models.Model:
        return get_object_or_404(self.get_queryset(), pk=pk)

    def get_extra_context(self, obj: Any) -> dict[str, Any]:
        return {}

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = self.get_object(pk)
        context = self.base_context(
            object=obj,
            fields=[(column.label, column.value(obj), column.link) for column in self.fields],
            transitions=available_transitions(obj, request.user)
            if hasattr(obj, "transitions")
            else [],
            transition_url=url_name(self.model, "transition") if self.has_url("transition") else "",
            edit_url=reverse(url_name(self.model, "edit"), args=[obj.pk])
            if self.has_url("edit")
            else "",
            delete_url=reverse(url_name(self.model, "delete"), args=[obj.pk])
            if self.has_url("delete")
            else "",
            history_url=reverse(url_name(self.model, "history"), args=[obj.pk])
            if self.has_url("history")
            else "",
            record_panels=record_panels(request, obj),
            **self.get_extra_context(obj),
        )
        return render(request, self.template_name, context)


class ObjectHistoryView(ObjectPermissionMixin, View):
    """The record's audit events, newest first."""

    template_name: ClassVar[str] = "generic/object_history.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = get_object_or_404(self.get_queryset(), pk=pk)
        events = AuditEvent.objects.filter(
            object_type=obj._meta.label_lower, object_id=str(obj.pk)
        ).order_by("-seq")
        context = self.base_context(object=obj, events=events[:500])
        return render(request, self.template_name, context)


class ObjectEditView(ObjectPermissionMixin, View):
    """Create (no pk) or edit a record through its form; errors name the field."""

    form_class: ClassVar[type[ModelForm]]
    template_name: ClassVar[str] = "generic/object_edit.html"

    def get_required_verb(self, request: HttpRequest) -> str:
        return "change" if self.kwargs.get("pk") else "add"

    def get_object(self) -> models.Model | None:
        pk = self.kwargs.get("pk")
        if pk is None:
            return None
        return get_object_or_404(self.get_queryset(), pk=pk)

    def get_form(
        self, instance: models.Model | None, data: Any = None, files: Any = None
    ) -> ModelForm:
        return self.form_class(data=data, files=files, instance=instance)

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        obj = self.get_object()
        return self.render_form(self.get_form(obj, data=None), obj)

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        obj = self.get_object()
        form = self.get_form(obj, data=request.POST, files=request.FILES)
        if not form.is_valid():
            return self.render_form(form, obj, status=422)
        try:
            with transaction.atomic():
                saved = self.save_form(form)
        except FileRefused as exc:  # or the storage is full: nothing was saved, say why
            form.add_error(None, str(exc))
            return self.render_form(form, obj, status=422)
        messages.success(request, f"Saved {saved._meta.verbose_name} {saved}.")
        target = saved.get_absolute_url() or reverse(url_name(self.model, "list"))  # type: ignore[attr-defined]
        return redirect_to(request, target)

    def save_form(self, form: ModelForm) -> models.Model:
        return form.save()

    def render_form(
        self, form: ModelForm, obj: models.Model | None, status: int = 200
    ) -> HttpResponse:
        context = self.base_context(object=obj, form=form)
        return render(self.request, self.template_name, context, status=status)


class ObjectDeleteView(ObjectPermissionMixin, RecentPasswordRequiredMixin, View):
    """Delete after confirmation; records that others depend on are refused with a reason.

    The permission is checked first, then a recent password (core/reauth.py).
    """

    required_verb = "delete"
    template_name: ClassVar[str] = "generic/object_delete.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = get_object_or_404(self.get_queryset(), pk=pk)
        return render(request, self.template_name, self.base_context(object=obj))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = get_object_or_404(self.get_queryset(), pk=pk)
        label = str(obj)
        try:
            with transaction.atomic():
                obj.delete()
        except ProtectedError as exc:
            blockers = ", ".join(str(o) for o in list(exc.protected_objects)[:5])
            messages.error(request, f"{label} cannot be deleted: it is used by {blockers}.")
            return HttpResponseRedirect(obj.get_absolute_url())
        messages.success(request, f"Deleted {label}.")
        return HttpResponseRedirect(reverse(url_name(self.model, "list")))


class ObjectTransitionView(ObjectPermissionMixin, View):
    """POST a named transition; guards and permissions are checked by `apply_transition`."""

    http_method_names = ["post"]

    def get_required_verb(self, request: HttpRequest) -> str:
        return "change"  # and apply_transition checks the transition's own verb

    def post(self, request: HttpRequest, pk: int, name: str) -> HttpResponse:
        obj = get_object_or_404(self.get_queryset(), pk=pk)
        values = {
            key: request.POST[key]
            for key in getattr(obj, "transition_fields", ())
            if key in request.POST
        }
        try:
            apply_transition(obj, name, actor=request.user, values=values)
        except TransitionError as exc:
            for message in exc.messages:
                messages.error(request, message)
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
        else:
            messages.success(request, f"{obj} is now {obj.get_status_display()}.")
        return HttpResponseRedirect(obj.get_absolute_url())


def model_urls(
    model: type[models.Model],
    *,
    list_view: Any = None,
    detail_view: Any = None,
    edit_view: Any = None,
    delete_view: Any = None,
    history_view: Any = None,
    transition_view: Any = None,
    path_prefix: str | None = None,
) -> list:
    """The standard URL patterns of a model, with derived names."""
    from django.urls import path

    name = model._meta.model_name or ""
    prefix = path_prefix if path_prefix is not None else f"{name}s/"
    patterns = []
    if list_view:
        patterns.append(path(prefix, list_view.as_view(), name=f"{name}_list"))
    if edit_view:
        patterns.append(path(f"{prefix}add/", edit_view.as_view(), name=f"{name}_add"))
        patterns.append(path(f"{prefix}<int:pk>/edit/", edit_view.as_view(), name=f"{name}_edit"))
    if detail_view:
        patterns.append(path(f"{prefix}<int:pk>/", detail_view.as_view(), name=name))
    if delete_view:
        patterns.append(
            path(f"{prefix}<int:pk>/delete/", delete_view.as_view(), name=f"{name}_delete")
        )
    history: Any = history_view or type(
        f"{model.__name__}HistoryView", (ObjectHistoryView,), {"model": model}
    )
    patterns.append(path(f"{prefix}<int:pk>/history/", history.as_view(), name=f"{name}_history"))
    if transition_view:
        patterns.append(
            path(
                f"{prefix}<int:pk>/transition/<slug:name>/",
                transition_view.as_view(),
                name=f"{name}_transition",
            )
        )
    return patterns


__all__ = [
    "Column",
    "Http404",
    "ObjectDeleteView",
    "ObjectDetailView",
    "ObjectEditView",
    "ObjectHistoryView",
    "ObjectListView",
    "ObjectTransitionView",
    "model_urls",
    "url_name",
]
