"""Production: the same settings, with transport security switched on.

`manage.py check --deploy --settings=config.settings_production` prints no warnings
(tests/org/test_foundation.py). SECRET_KEY must come from the environment.
"""

from .settings import *  # noqa: F403
from .settings import env

DEBUG = False
SECRET_KEY = env("SECRET_KEY")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
