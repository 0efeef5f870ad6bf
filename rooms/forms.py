from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from .identity import is_member_name
from .models import (
    AUTHOR_MAX_LENGTH,
    BAD_MESSAGE_KEY,
    DESCRIPTION_MAX_LENGTH,
    MESSAGE_KEY,
    MESSAGE_MAX_LENGTH,
    NOT_REPLYABLE,
    ROOM_NAME_MAX_LENGTH,
    TOPIC_MAX_LENGTH,
    MemberName,
    message_text,
    record_number,
    room_slug,
    validate_printable,
)
from .names import NameCharacters
from .words import Words


class UncutCharField(forms.CharField):
    """A text field that refuses a text that is too long, and says so, instead of letting
    the browser cut it: a maxlength attribute drops the end of a paste without a word."""

    def widget_attrs(self, widget) -> dict:
        attrs = super().widget_attrs(widget)
        attrs.pop("maxlength", None)
        return attrs


class MessageTextField(UncutCharField):
    """A message's text, its line ends as stored (counted as the model counts them)."""

    def to_python(self, value) -> str:
        return message_text(super().to_python(value))


class RoomNameForm(forms.Form):
    room_name = UncutCharField(
        label=_("Room"),
        max_length=ROOM_NAME_MAX_LENGTH,
        validators=[validate_printable, NameCharacters(_("the room name"))],
        error_messages={"required": _("Name the room you want to join.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "django-girls"}),
    )

    def clean_room_name(self) -> str:
        name = " ".join(self.cleaned_data["room_name"].split())
        room_slug(name)  # the address it leads to must exist and fit
        return name


class GuestNameForm(forms.Form):
    username = UncutCharField(
        label=_("Your name"),
        max_length=AUTHOR_MAX_LENGTH,
        validators=[validate_printable, NameCharacters(_("your name"))],
        error_messages={"required": _("Tell the room who you are.")},
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )

    def __init__(self, *args, member=None, **kwargs):
        super().__init__(*args, **kwargs)
        if member is not None and member.is_authenticated:
            # Members are known by their username; there is no name to pick.
            del self.fields["username"]

    def clean_username(self) -> str:
        name = " ".join(self.cleaned_data["username"].split())
        if is_member_name(name):
            raise forms.ValidationError(
                _("That name belongs to a member. Log in to use it, or pick another."),
                code="member_name",
            )
        return name


class JoinForm(RoomNameForm, GuestNameForm):
    """The home page's form: a room by name, and the name to go by (guests only)."""

    field_order = ["room_name", "username"]


class InviteForm(forms.Form):
    """An owner's new invitation link (rooms/invites.py)."""

    days = forms.TypedChoiceField(
        label=_("Works for"),
        coerce=int,
        choices=[(1, _("1 day")), (7, _("7 days")), (30, _("30 days"))],
        initial=7,
    )
    single_use = forms.BooleanField(label=_("For one person only"), required=False)
    guests = forms.BooleanField(label=_("Guests may join with it (no account)"), required=False)


class MessageForm(forms.Form):
    """The composer's plain POST; the rules live on the model (Message.body), and the
    box itself is drawn by templates/rooms/_composer_input.html for page and push."""

    message = MessageTextField(
        max_length=MESSAGE_MAX_LENGTH,
        error_messages={"required": _("Write something before sending.")},
    )
    # Made when the form was drawn (a fresh one per page): a second post with the same
    # key (a double click, a resend) is the same message. Older clients send none.
    key = forms.CharField(required=False, widget=forms.HiddenInput)
    # The message this one replies to (rooms/_composer_reply.html); checked by posting.
    reply_to = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean(self):
        cleaned = super().clean()
        key = cleaned.get("key") or None
        if "key" in self.errors or (key is not None and not MESSAGE_KEY.fullmatch(key)):
            # Told beside the box: the key is the message's own, and hidden.
            self.errors.pop("key", None)
            self.add_error("message", BAD_MESSAGE_KEY)
        else:
            cleaned["key"] = key
        reply_to = cleaned.get("reply_to") or None
        cleaned["reply_to"] = reply_to and record_number(reply_to)
        if reply_to is not None and cleaned["reply_to"] is None:
            self.add_error("message", NOT_REPLYABLE)
        return cleaned


class AboutForm(forms.Form):
    """The room's topic and description: two small forms on the room page, each sending
    one field (plain POST or socket); the rules live in rooms/about.py and the model."""

    topic = UncutCharField(
        label=_("Topic"),
        required=False,
        max_length=TOPIC_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "off", "id": "topic-input"}),
    )
    description = UncutCharField(
        label=_("Description"),
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "off", "id": "description-input"}),
    )


LOOKS_TAKEN = Words("A member already has a name that looks the same. Pick another.")


class SignupForm(UserCreationForm):
    """A member account: the username becomes the name shown in every room."""

    class Meta(UserCreationForm.Meta):
        fields = ("username",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Refused below when too long, never cut by the browser.
        self.fields["username"].widget.attrs.pop("maxlength", None)

    def clean_username(self) -> str:
        name = super().clean_username()
        if not name:
            return name  # taken as it is: the error is on the field already
        if len(name) > AUTHOR_MAX_LENGTH:
            raise forms.ValidationError(
                _("Use at most %(most)s characters (this has %(length)s).")
                % {"most": AUTHOR_MAX_LENGTH, "length": len(name)},
                code="max_length",
            )
        NameCharacters(_("your name"))(name)
        if is_member_name(name):
            raise forms.ValidationError(LOOKS_TAKEN, code="look_alike")
        return name

    def save(self, commit: bool = True):
        """The account and its name's look-alike forms, in one transaction: a sign-up that
        lost a race for a name that looks the same stores nothing (IntegrityError)."""
        with transaction.atomic():
            user = super().save(commit)
            if commit and not MemberName.objects.filter(user=user).exists():
                raise IntegrityError("a member's name that looks the same was just taken")
        return user


class ComposerForm(MessageForm):
    """The message box's post with its files (rooms/uploads.py): with a file chosen, the
    text may be empty, since a picture alone is a message. The files are read from the
    request as they came (`attached`); rooms/uploads.py decides what may be stored."""

    def __init__(self, data=None, files=None, **kwargs):
        super().__init__(data, files, **kwargs)
        self.attached = [f for f in files.getlist("files") if f.name] if files else []
        if self.attached:
            self.fields["message"].required = False
