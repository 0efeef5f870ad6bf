"""The workshop project's settings, reduced to what its chat socket uses."""

import os

SECRET_KEY = "workshop-benchmark-only"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["daphne", "django.contrib.contenttypes", "channels", "chat"]
ASGI_APPLICATION = "config.asgi.application"
# As the workshop configures it: the core Redis layer with its defaults.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")]},
    }
}
USE_TZ = True
