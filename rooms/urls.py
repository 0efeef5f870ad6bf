from django.urls import path, register_converter

from . import files, my_rooms, transcript_views, transcripts, views
from .search import views as search

register_converter(transcripts.IsoDateConverter, "isodate")

app_name = "rooms"

urlpatterns = [
    path("", views.join, name="join"),
    path("rooms/<slug:slug>/", views.room, name="room"),
    path("rooms/<slug:slug>/about/", views.about, name="about"),
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
    path("rooms/<slug:slug>/search/", search.in_room, name="search_room"),
]
