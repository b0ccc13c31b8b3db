"""Controlled documented information (clause 7.5) for customer communication (8.2.1):
documents, their versions with review and approval, distributions to customers, and
staff acknowledgements of the method documents."""
