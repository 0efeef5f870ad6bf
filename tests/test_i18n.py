"""German beside English: every word is in the catalog, every page reads German for a German
browser (or after choosing Deutsch), and nothing English is left on them."""

import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.template.loader import get_template
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from rooms import invites, moderation
from rooms.identity import Identity, identify
from rooms.models import Message, Room
from rooms.posting import post_message
from rooms.search import search

from .helpers import frame, make_room, make_session, open_socket
from .test_templates import all_templates
from .test_templates import sample as template_sample  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(django_settings.BASE_DIR)
CATALOG = ROOT / "locale" / "de" / "LC_MESSAGES" / "django.po"


def entries(path: Path) -> list[dict]:
    """A .po file's messages: msgid, msgid_plural, their msgstr(s), and whether fuzzy."""
    found, entry, field = [], None, None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if entry and entry.get("msgid"):
                found.append(entry)
            entry, field = None, None
            continue
        entry = entry or {"fuzzy": False, "msgstr": {}}
        if line.startswith("#,") and "fuzzy" in line:
            entry["fuzzy"] = True
        elif line.startswith("#"):
            continue
        elif match := re.match(r"(msgid_plural|msgid|msgstr(?:\[(\d+)\])?) (\".*\")$", line):
            name, index, text = match.groups()
            field = ("msgstr", index or "0") if name.startswith("msgstr") else (name, None)
            append(entry, field, text)
        elif line.startswith('"') and field:
            append(entry, field, line)
    return found


def append(entry: dict, field: tuple, literal: str) -> None:
    text = literal[1:-1].replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
    name, index = field
    if name == "msgstr":
        entry["msgstr"][index] = entry["msgstr"].get(index, "") + text
    else:
        entry[name] = entry.get(name, "") + text


def german() -> dict[str, str]:
    return {e["msgid"]: e["msgstr"].get("0", "") for e in entries(CATALOG)}


def test_every_string_in_the_code_has_a_german_translation(tmp_path, settings, monkeypatch):
    """makemessages over a copy of the code, into a copy of the catalog: a string marked
    for translation (or a changed one) that nobody translated yet fails here."""
    for part in ("config", "rooms", "templates"):
        ignore = shutil.ignore_patterns("__pycache__", "migrations")
        shutil.copytree(ROOT / part, tmp_path / part, ignore=ignore)
    shutil.copytree(ROOT / "locale", tmp_path / "locale")
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    monkeypatch.chdir(tmp_path)
    call_command("makemessages", locale=["de"], no_obsolete=True, no_wrap=True, verbosity=0)
    found = entries(tmp_path / "locale" / "de" / "LC_MESSAGES" / "django.po")
    assert len(found) > 300
    untranslated = [
        e["msgid"] for e in found if e["fuzzy"] or not all(e["msgstr"].values()) or not e["msgstr"]
    ]
    assert untranslated == []


def test_the_catalog_keeps_every_placeholder():
    """A translation that drops or renames a %(name)s would fail when drawn."""
    for entry in entries(CATALOG):
        english = entry["msgid"] + entry.get("msgid_plural", "")
        wanted = set(re.findall(r"%\(\w+\)s", english))
        for text in entry["msgstr"].values():
            assert set(re.findall(r"%\(\w+\)s", text)) == wanted, entry["msgid"]


ATTRIBUTES = re.compile(r'\b(?:aria-label|title|placeholder|alt)="([^"]*)"')


def visible(page: str) -> str:
    """What a person reads or hears: text and the attributes read aloud, not code."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    said = " ".join(ATTRIBUTES.findall(page))
    return html.unescape(re.sub(r"<[^>]+>", " ", page) + " " + said)


def english_left(text: str) -> list[str]:
    """The catalog's English strings (those German says differently) still on the page.
    A string with placeholders is looked for by its longest plain part."""
    left = []
    for english, german_text in german().items():
        if english == german_text:
            continue
        plain = max(re.split(r"%\(\w+\)s|<[^>]+>", english), key=len).strip(" .,:;·")
        if len(plain) < 4 or (" " not in plain and plain.islower()):
            continue  # a field name of the admin, or too short to tell
        if re.search(rf"(?<![\w-]){re.escape(plain)}(?![\w-])", text):
            left.append(plain)
    return left


def deutsch() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")


@pytest.fixture
def world():
    """A staff member who owns a private room with a message, an invitation, a mute and a
    ban in it; an open room with a message; a guest's session."""
    olive = User.objects.create_user("olive", password="a long passphrase", is_staff=True)
    olive.is_superuser = True
    olive.save()
    owner = deutsch()
    owner.force_login(olive)
    assert owner.post("/new-room/", {"room_name": "Pläne"}).status_code == 303
    plans = Room.objects.get(name="Pläne")
    owner.get(plans.get_absolute_url())
    assert owner.post(plans.get_absolute_url(), {"message": "Hallo zusammen"}).status_code < 400
    assert owner.post(f"/rooms/{plans.slug}/members/", {"days": 7}).status_code == 303
    guest = deutsch()
    assert guest.post("/", {"room_name": "Kaffee", "username": "bert"}).status_code == 303
    cafe = Room.objects.get(name="Kaffee")
    guest.post(cafe.get_absolute_url(), {"message": "Guten Morgen"})
    bert = identify(guest.session)
    staff = identify(owner.session, olive)
    # As a German moderator does it: the log keeps the words of whoever acted.
    muting = {"do": "mute", "target": bert.key, "minutes": 10, "reason": "zu laut"}
    assert owner.post(f"/rooms/{cafe.slug}/moderation/", muting).status_code == 303
    post_message(cafe, Identity("carl", guest=True, key="guest.carl"), "Moin")
    moderation.ban(cafe, staff, olive, "guest.carl", reason="Spam")
    return {"owner": owner, "guest": guest, "plans": plans, "cafe": cafe}


def pages(world) -> dict[str, tuple[Client, str, str]]:
    """Each page: who looks, where, and a German phrase it must show."""
    owner, guest, plans, cafe = world["owner"], world["guest"], world["plans"], world["cafe"]
    message = Message.objects.get(room=plans)
    invite = plans.invites.latest("created")
    at = message.get_absolute_url()
    day = message.created.date().isoformat()
    nobody = deutsch()
    return {
        "lobby": (nobody, "/", "Einen Raum betreten"),
        "lobby with my rooms": (owner, "/", "Meine Räume"),
        "room": (owner, plans.get_absolute_url(), "Noch nicht gesendet"),
        "guest's room": (guest, cafe.get_absolute_url(), "Gast"),
        "join error": (nobody, "/?room=", "Einen Raum betreten"),
        "login": (nobody, "/accounts/login/", "Neu hier?"),
        "signup": (nobody, "/accounts/signup/", "Konto anlegen"),
        "new private room": (owner, "/new-room/", "Raum anlegen"),
        "members": (owner, f"/rooms/{plans.slug}/members/", "Einladungslinks"),
        "invitation": (
            deutsch(),
            f"/invites/{invites.token(invite)}/",
            "Diese Einladung ist für Mitglieder",
        ),
        "moderation": (owner, f"/rooms/{cafe.slug}/moderation/", "Was die Moderatoren getan haben"),
        "search": (owner, "/search/?q=Hallo", "neueste zuerst"),
        "search, nothing found": (owner, "/search/?q=Zebra", "Keine Nachrichten passen"),
        "room search": (owner, f"/rooms/{plans.slug}/search/?q=Hallo", "neueste zuerst"),
        "day": (owner, f"/rooms/{plans.slug}/{day}/", "Herunterladen als"),
        "edit": (owner, f"{at}?do=edit", "Eine Nachricht bearbeiten"),
        "delete": (owner, f"{at}?do=delete", "Diese Nachricht für alle löschen?"),
        "react": (owner, f"{at}react/", "Oder ein paar Worte"),
        "new conversation": (owner, "/messages/new/", "Unterhaltung beginnen"),
        "new conversation, guest": (guest, "/messages/new/", "Melde dich an"),
        "banned": (
            banned_client(),
            cafe.get_absolute_url(),
            "Du bist aus diesem Raum gesperrt",
        ),
        "admin rooms": (owner, "/admin/rooms/room/", "Räume"),
        "admin messages": (owner, "/admin/rooms/message/", "Nachrichten"),
        "admin memberships": (owner, "/admin/rooms/membership/", "Mitgliedschaften"),
        "admin mutes": (owner, "/admin/rooms/mute/", "Stummschaltungen"),
        "admin bans": (owner, "/admin/rooms/ban/", "Sperren"),
        "admin log": (owner, "/admin/rooms/moderationaction/", "Moderationsaktionen"),
        "admin index": (owner, "/admin/", "Chaträume"),
    }


def banned_client() -> Client:
    client = deutsch()
    client.cookies[django_settings.SESSION_COOKIE_NAME] = make_session("carl", guest_key="carl")
    return client


PAGES = [
    "lobby",
    "lobby with my rooms",
    "room",
    "guest's room",
    "join error",
    "login",
    "signup",
    "new private room",
    "members",
    "invitation",
    "moderation",
    "search",
    "search, nothing found",
    "room search",
    "day",
    "edit",
    "delete",
    "react",
    "new conversation",
    "new conversation, guest",
    "banned",
    "admin rooms",
    "admin messages",
    "admin memberships",
    "admin mutes",
    "admin bans",
    "admin log",
    "admin index",
]


@pytest.mark.parametrize("name", PAGES)
def test_every_page_reads_german_for_a_german_browser(world, name):
    client, url, phrase = pages(world)[name]
    response = client.get(url)
    # Django's admin leaves its search icon's alt text untranslated: not ours to change.
    page = response.content.decode().replace('alt="Search"', "")
    assert '<html lang="de"' in page
    text = visible(page)
    assert phrase in text
    assert english_left(text) == []


def test_the_admin_names_our_models_in_german(world):
    text = visible(world["owner"].get("/admin/rooms/room/").content.decode())
    assert "Raum zur Änderung auswählen" in text
    for english in ("Select room to change", "Rooms", "Chat rooms", "Kind", "Created"):
        assert not re.search(rf"(?<!\w){english}(?!\w)", text), english


def test_fragments_read_german_too(world):
    """Drawn for one page in answer to its own request: the topic form's refusal, the
    search results as htmx asks for them, the older-messages loader."""
    owner, plans = world["owner"], world["plans"]
    htmx = {"HTTP_HX_REQUEST": "true"}
    found = owner.get(f"/rooms/{plans.slug}/search/?q=Hallo", **htmx).content.decode()
    assert "neueste zuerst" in visible(found)
    assert english_left(visible(found)) == []
    refused = owner.post(f"/rooms/{plans.slug}/about/", {"topic": "x" * 500}, **htmx)
    assert "höchstens" in visible(refused.content.decode())
    form = owner.get(f"{Message.objects.get(room=plans).get_absolute_url()}?do=edit", **htmx)
    assert "Speichern" in visible(form.content.decode())


def test_refusals_read_german():
    client = deutsch()
    response = client.post("/", {"room_name": "", "username": ""})
    text = visible(response.content.decode())
    assert "Nenne den Raum, den du betreten möchtest." in text
    assert "Sag dem Raum, wer du bist." in text
    assert english_left(text) == []


def test_a_browser_asking_for_german_gets_german_and_english_stays_the_default():
    assert '<html lang="de"' in deutsch().get("/").content.decode()
    english = Client().get("/").content.decode()
    assert '<html lang="en"' in english
    assert "Join a room" in english
    french = Client(HTTP_ACCEPT_LANGUAGE="fr").get("/").content.decode()
    assert '<html lang="en"' in french


def test_the_language_form_switches_and_the_choice_sticks():
    client = Client()
    page = client.get("/accounts/login/").content.decode()
    assert 'action="/i18n/setlang/"' in page
    response = client.post("/i18n/setlang/", {"language": "de", "next": "/search/?q=x"})
    assert response.status_code == 302
    assert response["Location"] == "/search/?q=x"
    for url in ("/", "/accounts/login/"):
        assert '<html lang="de"' in client.get(url).content.decode()
    # Chosen over what the browser asks for, and back to English the same way.
    assert '<html lang="de"' in client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Join a room" in client.get("/", HTTP_ACCEPT_LANGUAGE="de").content.decode()


def test_a_page_drawn_in_german_leaves_english_pages_english(world):
    """Messages are drawn once and kept (rooms/broadcast.py): per language."""
    plans = world["plans"]
    assert "Antworten" in world["owner"].get(plans.get_absolute_url()).content.decode()
    english = Client()
    english.force_login(User.objects.get(username="olive"))
    page = english.get(plans.get_absolute_url()).content.decode()
    assert "Antworten" not in page
    assert "Reply" in page


def test_pushes_are_drawn_once_per_language(world, settings):
    """A group push is drawn once in each offered language, whichever language the request
    that caused it was in; with one language offered it stays one string."""
    from django.utils import translation

    from rooms import broadcast

    message = Message.objects.drawn().get(room=world["plans"])
    with translation.override("de"):
        drawn = broadcast.message_event(message)["html"]
        page = broadcast.draw_message(message)
    assert set(drawn) == {"en", "de"}
    assert "Reply" in drawn["en"] and "Antworten" not in drawn["en"]
    assert "Antworten" in drawn["de"]
    assert "Antworten" in page
    with translation.override("en"):
        assert drawn["en"] == broadcast.render_messages([message])
    settings.LANGUAGES = [("de", "Deutsch")]
    settings.LANGUAGE_CODE = "de"
    only = broadcast.message_event(message)["html"]
    assert isinstance(only, str)
    assert only == drawn["de"]


# Sockets whose pages were drawn in English, and in German by each way a page is.
IN_GERMAN = {
    "cookie": [(b"cookie", f"{django_settings.LANGUAGE_COOKIE_NAME}=de".encode())],
    "accept-language": [(b"accept-language", b"de-DE,de;q=0.9,en;q=0.5")],
}


async def socket_in(name: str, extra: list[tuple[bytes, bytes]] = ()):
    """A joined guest's socket, its browser sending `extra` headers too (a cookie joins
    the session's in the one Cookie header a browser sends)."""
    socket = await open_socket("django-girls", name, guest_key=name)
    headers = dict(socket.scope["headers"])
    for header, value in extra:
        headers[header] = b"; ".join([headers[header], value]) if header in headers else value
    socket.scope["headers"] = list(headers.items())
    connected, _ = await socket.connect()
    assert connected
    return socket


async def next_frame_with(socket, marker: str) -> str:
    while True:
        push = await socket.receive_from(timeout=5)
        if marker in push:
            return push


@pytest.fixture
def live(settings):
    """Who-is-here pushes on (the test settings keep them off), coalesced briskly."""
    settings.LIVE_PUSHES = True
    settings.LIVE_PUSH_EVERY = 0.2
    return settings


@pytest.mark.usefixtures("nobody_here", "live")
@pytest.mark.parametrize("chosen_by", IN_GERMAN)
async def test_each_socket_hears_the_room_in_its_pages_language(chosen_by):
    from asgiref.sync import sync_to_async
    from django.utils import translation

    from rooms import broadcast

    room = await make_room()
    english = await socket_in("ada")
    german = await socket_in("bert", IN_GERMAN[chosen_by])
    # Who is here: the same people, each socket in its own words.
    here_en = await next_frame_with(english, "bert")
    here_de = await next_frame_with(german, "bert")
    assert "Here now: 2" in here_en and ">guest<" in here_en
    assert "Jetzt hier: 2" in here_de and ">Gast<" in here_de
    assert "Here now" not in here_de

    carl = Identity("carl", guest=True, key="guest.carl")
    message = await sync_to_async(post_message)(room, carl, "Moin")
    said_en = await next_frame_with(english, "Moin")
    said_de = await next_frame_with(german, "Moin")
    assert "Antworten" in said_de and "Gast" in said_de
    assert "Reply" not in said_de
    assert "Reply" in said_en and "Antworten" not in said_en
    # The English socket gets exactly what every socket got before: the site's language.
    drawn = await sync_to_async(lambda: Message.objects.drawn().get(pk=message.pk))()
    with translation.override(django_settings.LANGUAGE_CODE):
        assert said_en == broadcast.render_messages([drawn])

    # A refusal of the German page's own send is German; the English page hears nothing.
    await german.send_to(frame("   ", key="k" * 22))
    refused = await german.receive_from(timeout=5)
    assert 'id="composer-error"' in refused
    assert english_left(visible(refused)) == []
    await german.send_to(frame("too long " * 300))
    too_long = visible(await german.receive_from(timeout=5))
    assert "höchstens" in too_long, too_long
    await english.send_to(frame("too long " * 300))
    assert "at most" in visible(await english.receive_from(timeout=5))
    for socket in (english, german):
        await socket.disconnect()


@pytest.mark.usefixtures("nobody_here")
async def test_a_german_sockets_catch_up_is_german():
    from asgiref.sync import sync_to_async

    room = await make_room()
    for text in ("eins", "zwei"):
        await sync_to_async(post_message)(room, Identity("carl", guest=True, key="c"), text)
    german = await socket_in("bert", IN_GERMAN["cookie"])
    english = await socket_in("ada")
    for socket in (german, english):
        await socket.send_to(json.dumps({"after": "0"}))
    caught_de = await next_frame_with(german, "zwei")
    caught_en = await next_frame_with(english, "zwei")
    assert "eins" in caught_de and "Antworten" in caught_de and "Reply" not in caught_de
    assert "Reply" in caught_en and "Antworten" not in caught_en
    for socket in (english, german):
        await socket.disconnect()


@pytest.mark.parametrize("name", all_templates())
def test_every_template_and_partial_reads_german(template_sample, name):  # noqa: F811
    """Each template on its own, with test_templates.py's sample data, drawn in German:
    no English string of the catalog is left in it."""
    sample = {**template_sample, "title": _("Edit a message")}
    # Not "Sample <Room>": the room's name is what someone typed, and "Room" is English.
    sample["room"].name = "Kaffee <Ecke>"
    Room.objects.filter(pk=sample["room"].pk).update(name=sample["room"].name)
    sample["results"] = search("hello")
    sample["hit"] = sample["results"].hits[0]
    with translation.override("de"):
        page = get_template(name).render(sample, sample["request"])
    # Django's admin leaves its search icon's alt text untranslated: not ours to change.
    assert english_left(visible(page.replace('alt="Search"', ""))) == []


def offered_languages(**env: str) -> subprocess.CompletedProcess:
    """settings.LANGUAGES and LANGUAGE_CODE for an environment, in a fresh interpreter."""
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(' '.join(c for c, _ in s.LANGUAGES), s.LANGUAGE_CODE)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=django_settings.BASE_DIR,
        env={
            "PATH": os.environ["PATH"],
            "SECRET_KEY": "x",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            **env,
        },
        capture_output=True,
        text=True,
    )


def test_a_site_may_offer_one_language_and_refuses_one_it_has_no_words_for():
    assert offered_languages().stdout.split() == ["en", "de", "en"]
    # One language: every push is drawn once (rooms/languages.py).
    assert offered_languages(LANGUAGES="de").stdout.split() == ["de", "de"]
    unknown = offered_languages(LANGUAGES="en,fr")
    assert unknown.returncode != 0
    assert "LANGUAGES: some of en, de" in unknown.stderr
