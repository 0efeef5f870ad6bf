from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from . import editing, moderation, modlog
from .identity import Identity, member_key
from .models import Ban, Membership, Message, ModerationAction, Mute, Reaction, Room


def staff_identity(request) -> Identity:
    """The staff member acting in the admin, as the room's log names them."""
    return Identity(request.user.get_username(), guest=False, key=member_key(request.user.pk))


class MembershipForm(forms.ModelForm):
    """Pick a member's account and the key and name follow from it; a guest is given by
    their key ("guest.<token>") and a name."""

    class Meta:
        model = Membership
        fields = ["key", "user", "name", "role"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in ("key", "name"):
            self.fields[field].required = False
        self.fields["key"].help_text = _("Left empty for an account: user.<its id>.")

    def clean(self) -> dict:
        data = super().clean()
        user = data.get("user")
        if user is not None:
            data["key"] = data.get("key") or member_key(user.pk)
            data["name"] = data.get("name") or user.get_username()
        if not data.get("key") or not data.get("name"):
            raise forms.ValidationError(_("Pick an account, or give a guest's key and name."))
        return data


class MembershipInline(admin.TabularInline):
    """A room's owner and moderators (and, in private rooms, members): open rooms get
    their owner and moderators here."""

    model = Membership
    form = MembershipForm
    fields = ["key", "user", "name", "role"]
    raw_id_fields = ["user"]
    extra = 0


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "kind", "created"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]

    def save_formset(self, request, form, formset, change) -> None:
        super().save_formset(request, form, formset, change)
        if formset.model is Membership:
            for member in formset.new_objects + [o for o, _ in formset.changed_objects]:
                log_role(request, member)


def log_role(request, member: Membership) -> None:
    """A role given in the admin goes in the room's log like one given on its page."""
    if member.role in (Membership.Role.OWNER, Membership.Role.MODERATOR):
        kind = ModerationAction.Kind.APPOINT
        modlog.record(member.room, staff_identity(request), kind, member.key, member.role)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Who owns or moderates a room (and who belongs to private rooms)."""

    form = MembershipForm
    fields = ["room", "key", "user", "name", "role"]
    list_display = ["name", "room", "role", "key", "joined"]
    list_filter = ["role", "room__kind"]
    search_fields = ["name", "key", "room__name"]
    list_select_related = ["room"]
    raw_id_fields = ["user", "room"]

    def save_model(self, request, obj: Membership, form, change) -> None:
        super().save_model(request, obj, form, change)
        if "role" in form.changed_data or not change:
            log_role(request, obj)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Made and undone in the room (rooms/moderation.py), where it is announced and
    logged; the admin lists them, and undoes them through the same functions."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Mute)
class MuteAdmin(ReadOnlyAdmin):
    list_display = ["key", "room", "until", "by", "reason", "created"]
    list_select_related = ["room"]
    search_fields = ["key", "room__name", "reason"]

    def delete_model(self, request, obj: Mute) -> None:
        moderation.unmute(obj.room, staff_identity(request), request.user, obj.key)

    def delete_queryset(self, request, queryset) -> None:
        for each in queryset.select_related("room"):
            self.delete_model(request, each)


@admin.register(Ban)
class BanAdmin(ReadOnlyAdmin):
    list_display = ["key", "room", "address", "by", "reason", "created"]
    list_select_related = ["room"]
    search_fields = ["key", "room__name", "reason"]

    def delete_model(self, request, obj: Ban) -> None:
        moderation.unban(obj.room, staff_identity(request), request.user, obj.key)

    def delete_queryset(self, request, queryset) -> None:
        for each in queryset.select_related("room"):
            self.delete_model(request, each)


@admin.register(ModerationAction)
class ModerationActionAdmin(ReadOnlyAdmin):
    """Every room's log: read-only, so it stays a true account."""

    list_display = ["created", "room", "actor_name", "action", "target_name", "detail"]
    list_filter = ["action", "room"]
    search_fields = ["actor_name", "target_name", "detail", "room__name"]
    list_select_related = ["room"]
    date_hierarchy = "created"

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


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
        editing.moderate(obj, staff_identity(request))

    def delete_queryset(self, request, queryset) -> None:
        for message in queryset.select_related("room"):
            self.delete_model(request, message)
