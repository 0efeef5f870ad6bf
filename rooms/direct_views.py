"""The pages of direct messages: starting a conversation (a plain form, no script needed).

The page only parses and answers; who may start one, and with whom, is rooms/direct.py's.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from . import direct, limits
from .editing import Refused
from .forms import UncutCharField
from .views import person, see_other

# Room for every name the page allows, each up to a username's length, and the commas.
PEOPLE_MAX_LENGTH = 400


class ConversationForm(forms.Form):
    people = UncutCharField(
        label=_("People"),
        help_text=_("Names, separated by commas"),
        max_length=PEOPLE_MAX_LENGTH,
        error_messages={"required": _("Name the members you want to talk to.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "ada, bob"}),
    )


@require_http_methods(["GET", "HEAD", "POST"])
def new_conversation(request: HttpRequest) -> HttpResponse:
    """Start a conversation, or go back to the one with the same people (303 to its room).
    ?to=<name> fills the form in."""
    me = person(request)
    form = ConversationForm(request.POST or None, initial={"people": request.GET.get("to", "")})
    refusal, status = "", 200
    if request.method == "POST":
        if form.is_valid():
            names = direct.names_in(form.cleaned_data["people"])
            try:
                room = direct.start_conversation(me, request.user, names)
            except Refused as refused:
                refusal, status = str(refused), refused.status
            except ValidationError as error:
                form.add_error("people", error.message_dict[direct.FIELD])
                status = 429 if limits.is_rate_limited(error, direct.FIELD) else 400
            else:
                return see_other(room.get_absolute_url())
        else:
            status = 400
    context = {
        "form": form,
        "member": me is not None and not me.guest,
        "refusal": refusal,
    }
    return render(request, "rooms/new_conversation.html", context, status=status)
