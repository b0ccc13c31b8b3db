"""Harken: customer communication and satisfaction monitoring for ISO 9001 (8.2.1, 9.1.2)."""

__version__ = "0.1.0"
