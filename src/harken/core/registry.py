"""What each domain app adds to the shared shell: menu entries, demo builders, tick duties.

Apps register from their AppConfig.ready(); core reads the registries and so never
imports a domain app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# The order of the navigation's sections (DESIGN.md); a section shows once an app
# registers an entry in it.
SECTIONS = (
    "Communication",
    "Feedback",
    "Surveys",
    "Insights",
    "Actions",
    "Reviews",
    "Assurance",
)


@dataclass(frozen=True)
class MenuItem:
    """One navigation link, shown to users who hold `permission` (`app.verb_model`)."""

    section: str
    label: str
    url_name: str
    permission: str
    icon: str = ""


@dataclass(frozen=True)
class ObjectLink:
    """A button another app offers on a record's page: `url_name?<param>=<pk>`."""

    model: str  # app_label.model_name of the record it appears on
    label: str
    url_name: str
    permission: str
    param: str
    style: str = "outline-primary"


@dataclass
class Registry:
    menu: list[MenuItem] = field(default_factory=list)
    # (order, name, builder(seed, stdout) -> summary)
    demo: list[tuple[int, str, Callable[..., str]]] = field(default_factory=list)
    # (name, duty(now) -> summary line)
    tick: list[tuple[str, Callable[..., str]]] = field(default_factory=list)
    # (name, panel(request) -> context dict or None) shown on the home page
    panels: list[tuple[str, Callable[..., Any]]] = field(default_factory=list)
    object_links: list[ObjectLink] = field(default_factory=list)
    # Panels other apps add to a record's page: (app_label.model_name, fn(request, obj))
    record_panels: list[tuple[str, Callable[..., Any]]] = field(default_factory=list)

    # (code, the auditor's question, check(now) -> (outcome-count, message, records))
    readiness: list[tuple[str, str, Callable[..., Any]]] = field(default_factory=list)
    # `harken audit export` is provided by the assurance app
    audit_export: list[Callable[..., Any]] = field(default_factory=list)
    # Alerts shown at the top of every page: fn(request) -> message or None
    alerts: list[Callable[..., Any]] = field(default_factory=list)
    # Parts of the evidence pack other apps add: fn(start, end) -> list of parts
    evidence: list[Callable[..., Any]] = field(default_factory=list)

    def add_evidence(self, contributor: Callable[..., Any]) -> None:
        if contributor not in self.evidence:
            self.evidence.append(contributor)

    def add_readiness(self, code: str, question: str, check: Callable[..., Any]) -> None:
        if all(existing != code for existing, _, _ in self.readiness):
            self.readiness.append((code, question, check))

    def add_object_link(self, *links: ObjectLink) -> None:
        for link in links:
            if link not in self.object_links:
                self.object_links.append(link)

    def add_menu(self, *items: MenuItem) -> None:
        for item in items:
            if item.section not in SECTIONS:
                raise ValueError(f"Unknown menu section {item.section!r}")
            if item not in self.menu:
                self.menu.append(item)

    def add_demo(self, order: int, name: str, builder: Callable[..., str]) -> None:
        if all(existing != name for _, existing, _ in self.demo):
            self.demo.append((order, name, builder))
            self.demo.sort(key=lambda entry: entry[0])

    def add_record_panel(self, model: str, panel: Callable[..., Any]) -> None:
        if (model, panel) not in self.record_panels:
            self.record_panels.append((model, panel))

    def add_panel(self, name: str, panel: Callable[..., Any]) -> None:
        if all(existing != name for existing, _ in self.panels):
            self.panels.append((name, panel))

    def add_tick(self, name: str, duty: Callable[..., Any]) -> None:
        if all(existing != name for existing, _ in self.tick):
            self.tick.append((name, duty))


registry = Registry()
