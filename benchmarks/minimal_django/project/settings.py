"""The reference for page speed: a minimal Django project, one view returning "ok",
SecurityMiddleware and CommonMiddleware only, DEBUG off (benchmarks/bench.py "django")."""

SECRET_KEY = "benchmark-not-secret"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
INSTALLED_APPS: list[str] = []
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]
ROOT_URLCONF = "project.urls"
USE_TZ = True
TIME_ZONE = "UTC"
