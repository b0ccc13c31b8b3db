"""Shared bases: tracked models, the audit trail, numbering, roles, generic views."""
