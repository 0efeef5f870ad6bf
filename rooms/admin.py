from django.contrib import admin

from . import editing
from .models import Message, Reaction, Room


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class ReactionInline(admin.TabularInline):
    """Who reacted how, to read: reactions are given and taken back in the room
    (rooms/reacting.py), where the change is announced."""

    model = Reaction
    fields = ["text", "author", "created"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["created", "room", "seq", "author", "body", "edited", "deleted"]
    list_filter = ["room", ("deleted", admin.EmptyFieldListFilter)]
    search_fields = ["author", "body"]
    list_select_related = ["room"]
    readonly_fields = ["seq", "revision", "edited", "deleted", "reply_to"]
    inlines = [ReactionInline]

    def has_add_permission(self, request) -> bool:
        # Messages are said in rooms (rooms/posting.py), where they get their place.
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # Only authors edit their words; moderators may read and delete them.
        return False

    def delete_model(self, request, obj: Message) -> None:
        """Deleting here leaves a tombstone in the room, live for everyone in it and in
        the lobby (rooms/editing.py announces it)."""
        editing.moderate(obj)

    def delete_queryset(self, request, queryset) -> None:
        for message in queryset.select_related("room"):
            self.delete_model(request, message)
