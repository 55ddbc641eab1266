from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """Page-number pagination: one query for the page, one for the count."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
