"""Assurance (clauses 7.5, 8.2.1, 9.1.2, 9.3, 10.2): the trace page, the evidence pack,
the readiness check and sample audits — Harken in front of an auditor."""
