"""Health endpoints, request ids and structured logs."""

import json
import logging

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_healthz_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_the_database_and_the_layer(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "channel_layer": "ok"}


NOWHERE = {"address": "redis://127.0.0.1:1/0", "socket_timeout": None}  # nothing listens
NO_SENTINEL = {"sentinels": [("127.0.0.1", 1)], "master_name": "parley", "socket_timeout": None}


@pytest.mark.parametrize("servers", [[NOWHERE], [NO_SENTINEL]], ids=["redis", "sentinel"])
def test_readyz_says_what_is_down(client, settings, servers):
    settings.REDIS_SHARDS = servers
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["channel_layer"].startswith("unavailable")
    assert response.json()["database"] == "ok"


def test_every_response_carries_a_request_id(client):
    first, second = client.get("/"), client.get("/")
    assert len(first["X-Request-ID"]) == 32
    assert first["X-Request-ID"] != second["X-Request-ID"]
    assert client.get("/", HTTP_X_REQUEST_ID="edge-42")["X-Request-ID"] == "edge-42"
    assert client.get("/", HTTP_X_REQUEST_ID="<bad id>")["X-Request-ID"] != "<bad id>"


def test_request_lines_are_json_with_the_id_and_no_body(client, caplog):
    from rooms.log import JsonFormatter

    client.post("/", {"room_name": "Logs", "username": "ada"})
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="parley.http"):
        response = client.post("/rooms/logs/", {"message": "a secret message"})
    lines = [json.loads(JsonFormatter().format(record)) for record in caplog.records]
    assert lines == [
        {
            "time": lines[0]["time"],
            "level": "INFO",
            "logger": "parley.http",
            "event": "http.request",
            "request_id": response["X-Request-ID"],
            "method": "POST",
            "path": "/rooms/logs/",
            "status": 303,
            "ms": lines[0]["ms"],
        }
    ]
    assert "secret" not in caplog.text
