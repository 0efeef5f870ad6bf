from django.urls import path

from .consumers import RoomConsumer
from .lobby_consumer import LobbyConsumer

websocket_urlpatterns = [
    path("ws/rooms/<slug:slug>/", RoomConsumer.as_asgi()),
    path("ws/lobby/", LobbyConsumer.as_asgi()),
]
