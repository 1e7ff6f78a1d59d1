from django.core.paginator import Paginator
from django.template.loader import render_to_string
from django.test import RequestFactory


def test_pager_links_keep_the_list_filters():
    request = RequestFactory().get("/referrals/", {"status": "referred", "page": "2"})
    page = Paginator(range(30), 10).get_page(2)
    html = render_to_string("org/_pager.html", {"page": page}, request=request)
    assert 'href="?status=referred&amp;page=1">← Newer' in html
    assert 'href="?status=referred&amp;page=3">Older →' in html
    assert "Page 2 of 3" in html


def test_pager_labels_name_the_direction_of_the_list():
    request = RequestFactory().get("/referrals/overdue/")
    page = Paginator(range(30), 10).get_page(2)
    html = render_to_string(
        "org/_pager.html",
        {"page": page, "previous_label": "← Previous", "next_label": "Next →"},
        request=request,
    )
    assert "← Previous</a>" in html and "Next →</a>" in html
