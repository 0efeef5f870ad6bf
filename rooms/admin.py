from django.contrib import admin

from .models import Message, Room


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["created", "room", "seq", "author", "body"]
    list_filter = ["room"]
    search_fields = ["author", "body"]
    list_select_related = ["room"]
    raw_id_fields = ["room"]
    readonly_fields = ["seq"]

    def has_add_permission(self, request) -> bool:
        # Messages are said in rooms (Room.post), where they get their place in the room.
        return False
