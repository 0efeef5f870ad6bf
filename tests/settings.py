"""The app's own settings, made runnable without a deployment's environment."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-not-secret")

from config.settings import *  # noqa: F403
from config.settings import CHANNEL_LAYERS, STORAGES

# In-process tests render templates without a collectstatic manifest;
# tests that start real servers collect static files and use the real storage.
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests post faster than people do; tests/test_limits.py turns the limits back on.
RATE_LIMITS = False
AXES_ENABLED = False

# Test runs sharing one Redis must not hear each other's rooms.
if "CONFIG" in CHANNEL_LAYERS["default"]:
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"parley-test-{os.getpid()}"
# Who-is-here and lobby pushes arrive up to a second after a change, at moments tests that
# count frames cannot foresee; tests/test_presence.py and tests/test_lobby.py turn them on.
LIVE_PUSHES = False
