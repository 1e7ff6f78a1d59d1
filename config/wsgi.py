import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# The API's table of query parameters is built from the OpenAPI schema (a few seconds);
# build it as the worker starts, not during its first API request.
from org.api_query import query_parameters_table  # noqa: E402

query_parameters_table()
