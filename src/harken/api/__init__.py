"""The REST API: one router gathering each app's api.py."""
