from django import forms
from django.contrib.auth.forms import UserCreationForm

from .identity import is_member_name
from .models import (
    AUTHOR_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    MESSAGE_MAX_LENGTH,
    ROOM_NAME_MAX_LENGTH,
    TOPIC_MAX_LENGTH,
    room_slug,
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

    def __init__(self, *args, member=None, **kwargs):
        super().__init__(*args, **kwargs)
        if member is not None and member.is_authenticated:
            # Members are known by their username; there is no name to pick.
            del self.fields["username"]

    def clean_room_name(self) -> str:
        name = " ".join(self.cleaned_data["room_name"].split())
        room_slug(name)  # the address it leads to must exist and fit
        return name

    def clean_username(self) -> str:
        name = " ".join(self.cleaned_data["username"].split())
        if is_member_name(name):
            raise forms.ValidationError(
                "That name belongs to a member. Log in to use it, or pick another.",
                code="member_name",
            )
        return name


class MessageForm(forms.Form):
    """The composer's plain POST; the rules live on the model (Room.post), and the
    box itself is drawn by templates/rooms/_composer_input.html for page and push."""

    message = forms.CharField(
        max_length=MESSAGE_MAX_LENGTH,
        error_messages={"required": "Write something before sending."},
    )


class AboutForm(forms.Form):
    """The room's topic and description: two small forms on the room page, each sending
    one field (plain POST or socket); the rules live in rooms/about.py and the model."""

    topic = forms.CharField(
        label="Topic",
        required=False,
        max_length=TOPIC_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "off", "id": "topic-input"}),
    )
    description = forms.CharField(
        label="Description",
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "off", "id": "description-input"}),
    )


class SignupForm(UserCreationForm):
    """A member account: the username becomes the name shown in every room."""

    class Meta(UserCreationForm.Meta):
        fields = ("username",)

    def clean_username(self) -> str:
        name = super().clean_username()
        if name and len(name) > AUTHOR_MAX_LENGTH:
            raise forms.ValidationError(
                f"Use at most {AUTHOR_MAX_LENGTH} characters.", code="max_length"
            )
        return name
