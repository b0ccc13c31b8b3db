"""Feedback intake (clause 9.1.2): the perception source register, feedback items,
the taxonomy and its first-pass classification, importers, the intake API."""
