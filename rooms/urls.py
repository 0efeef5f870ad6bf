from django.urls import path, register_converter

from . import (
    direct_views,
    files,
    moderation_views,
    my_rooms,
    private_views,
    transcript_views,
    transcripts,
    views,
)
from .search import views as search

register_converter(transcripts.IsoDateConverter, "isodate")

app_name = "rooms"

urlpatterns = [
    path("", views.join, name="join"),
    path("rooms/<slug:slug>/", views.room, name="room"),
    path("rooms/<slug:slug>/about/", views.about, name="about"),
    # Private rooms (rooms/private_views.py): made by members, entered by invitation.
    path("new-room/", private_views.new_room, name="new_room"),
    path("rooms/<slug:slug>/members/", private_views.room_members, name="members"),
    path("invites/<str:token>/", private_views.invite, name="invite"),
    path("rooms/<slug:slug>/moderation/", moderation_views.page, name="moderation"),
    path("rooms/<slug:slug>/leave/", my_rooms.leave, name="leave"),
    # A day of the room's record, and the whole of it (rooms/transcript_views.py).
    path("rooms/<slug:slug>/<isodate:day>/", transcript_views.day, name="day"),
    path("rooms/<slug:slug>/export/", transcript_views.export, name="export"),
    path("rooms/<slug:slug>/people/", views.mention_options, name="mention_options"),
    path("rooms/<slug:slug>/messages/<int:pk>/", views.message, name="message"),
    path("rooms/<slug:slug>/messages/<int:pk>/react/", views.react, name="react"),
    path("rooms/<slug:slug>/uploads/", files.upload, name="upload"),
    path("rooms/<slug:slug>/files/<str:token>/<str:name>", files.attachment, name="attachment"),
    path("rooms/<slug:slug>/thumbnails/<str:token>/", files.thumbnail, name="thumbnail"),
    path("rooms/<slug:slug>/messages/<int:pk>/edit/", views.edit_message, name="edit_message"),
    path(
        "rooms/<slug:slug>/messages/<int:pk>/delete/", views.delete_message, name="delete_message"
    ),
    path("room/<str:room_name>/<str:username>/", views.workshop_room, name="workshop_room"),
    path("accounts/signup/", views.signup, name="signup"),
    path("search/", search.everywhere, name="search"),
    # Direct messages (rooms/direct.py): a conversation is a room of its own.
    path("messages/new/", direct_views.new_conversation, name="new_conversation"),
    path("rooms/<slug:slug>/search/", search.in_room, name="search_room"),
]
