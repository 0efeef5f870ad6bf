"""Words the server says to people (refusals, limits), kept in English for code to compare,
and said in the reader's language wherever they are shown.

A `Words` is the English text itself, so `==`, `in` and logs read it as written; `str()`
(what templates, `%s` and exceptions use to show it) looks it up in the translation catalog
of the language active at that moment. `makemessages` collects them (`Words("…")` is a
keyword of rooms/management/commands/makemessages.py).
"""

from django.utils.translation import gettext


class Words(str):
    text: str
    params: dict

    def __new__(cls, text: str, **params) -> "Words":
        # The English as code and tests see it: placeholders filled in.
        said = super().__new__(cls, text % params if params else text)
        said.text, said.params = text, params
        return said

    def __str__(self) -> str:
        said = gettext(self.text)
        return said % self.params if self.params else said
