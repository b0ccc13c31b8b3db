"""Reviews (clauses 9.1.2, 9.3): review series and their cadence, the Customer
Satisfaction Review Pack, review meetings with minutes and decisions, and the
management review input."""
