"""Property."""
