"""Actions (clauses 9.1.2, 10.2): recurring themes and their dispositions, decision
rules and their proposals, corrective and improvement actions with root cause, steps
and an effectiveness check computed from the perception data."""
