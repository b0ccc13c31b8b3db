"""Keyset (cursor) pagination for the API: stable and cheap at any depth."""

from rest_framework.pagination import CursorPagination


class KeysetPagination(CursorPagination):
    ordering = "-pk"
    page_size_query_param = "page_size"
    max_page_size = 500
