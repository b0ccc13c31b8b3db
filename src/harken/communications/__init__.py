"""The customer communication log (clause 8.2.1): every interaction with a customer,
shared-inbox ingestion (.eml, mbox, IMAP), threads, triage, supersession notices and
the communication lifecycle map."""
