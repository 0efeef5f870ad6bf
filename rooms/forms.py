from django import forms
from django.utils.text import slugify

from .models import (
    AUTHOR_MAX_LENGTH,
    MESSAGE_MAX_LENGTH,
    ROOM_NAME_MAX_LENGTH,
    validate_printable,
)


class JoinForm(forms.Form):
    room_name = forms.CharField(
        label="Room",
        max_length=ROOM_NAME_MAX_LENGTH,
        validators=[validate_printable],
        error_messages={"required": "Name the room you want to join."},
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "django-girls"}),
    )
    username = forms.CharField(
        label="Your name",
        max_length=AUTHOR_MAX_LENGTH,
        validators=[validate_printable],
        error_messages={"required": "Tell the room who you are."},
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )

    def clean_room_name(self) -> str:
        name = " ".join(self.cleaned_data["room_name"].split())
        if not slugify(name):
            raise forms.ValidationError(
                "Use at least one letter or digit in the room name.", code="no_slug"
            )
        return name

    def clean_username(self) -> str:
        return " ".join(self.cleaned_data["username"].split())


class MessageForm(forms.Form):
    """The composer; the rules themselves live on the model (Room.post)."""

    message = forms.CharField(
        label="Message",
        max_length=MESSAGE_MAX_LENGTH,
        error_messages={"required": "Write something before sending."},
        widget=forms.TextInput(attrs={"autocomplete": "off", "id": "message-input"}),
    )
