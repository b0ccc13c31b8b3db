"""Customers, their contacts, the product and service lines we sell, and regions."""
