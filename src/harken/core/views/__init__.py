"""Core pages: the home dashboard, the audit trail, and the generic views."""
