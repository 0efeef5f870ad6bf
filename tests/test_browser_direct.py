"""Direct messages as members see them in a real Chromium against a real server: starting a
conversation, talking in it live (across two server processes too), without JavaScript,
and an outsider finding nothing at its address."""

import secrets

import pytest
from playwright.sync_api import Browser, Page, expect

from .helpers import needs_redis
from .pages import bodies, say, serious_violations, watch_policy
from .servers import LIVE_WITHIN, Server, run_python

pytestmark = pytest.mark.e2e


def accounts(server: Server, *names: str) -> list[str]:
    """Member accounts for this test alone (the servers' database outlives it): each name
    with a tail of its own."""
    tail = secrets.token_hex(3)
    named = [f"{name}_{tail}" for name in names]
    run_python(
        server.env,
        "manage.py",
        "shell",
        "-c",
        "from django.contrib.auth.models import User; "
        f"[User.objects.create_user(n, password='a long passphrase') for n in {named!r}]",
        check=True,
    )
    return named


def sign_in(
    browser: Browser, server: Server, name: str, blocked: list[str] | None = None, **context
) -> Page:
    """A member in their own browser, logged in through the form, on the home page."""
    browser_context = browser.new_context(**context)
    if blocked is not None:
        watch_policy(browser_context, blocked)
    page = browser_context.new_page()
    page.goto(server.url + "/accounts/login/")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill("a long passphrase")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()
    return page


def message_someone(page: Page, people: str) -> None:
    """From the home page: "Message someone", the names, and into the conversation."""
    page.get_by_role("link", name="Message someone").click()
    page.get_by_label("People").fill(people)
    page.get_by_role("button", name="Start the conversation").click()


def live(page: Page, heading: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.locator(".room")).to_have_attribute("data-connection", "open")


def test_two_members_start_a_conversation_and_talk_live_and_nobody_else_finds_it(browser, server):
    ada_name, bob_name, carol_name = accounts(server, "ada", "bob", "carol")
    blocked: list[str] = []
    ada = sign_in(browser, server, ada_name, blocked)
    message_someone(ada, bob_name)
    live(ada, bob_name)
    expect(ada.get_by_text("only the people in this conversation can read it")).to_be_visible()
    address = ada.url
    # Bob finds it on his home page, under the other person's name.
    bob = sign_in(browser, server, bob_name, blocked)
    conversations = bob.get_by_role("region", name="Your conversations")
    conversations.get_by_role("link", name=ada_name).click()
    live(bob, ada_name)
    assert bob.url == address
    say(ada, "just between us")
    expect(bodies(bob).last).to_have_text("just between us")
    say(bob, "of course")
    expect(bodies(ada).last).to_have_text("of course")
    # Starting it again, names in another case, brings ada back to the same room.
    ada.goto(server.url + "/")
    message_someone(ada, f"{bob_name.upper()}, {ada_name}")
    live(ada, bob_name)
    assert ada.url == address
    expect(bodies(ada)).to_have_text(["just between us", "of course"])
    # Carol, a member too, finds nothing there.
    carol = sign_in(browser, server, carol_name)
    response = carol.goto(address)
    assert response.status == 404
    expect(carol.get_by_text("just between us")).to_have_count(0)
    assert blocked == []


def test_the_form_the_home_page_and_a_conversation_pass_axe(browser, server):
    ada_name, bob_name = accounts(server, "ada", "bob")
    # axe-core is injected as an inline script, which the policy would block.
    ada = sign_in(browser, server, ada_name, bypass_csp=True)
    message_someone(ada, "nobody_at_all")
    expect(ada.locator(".field__error")).to_be_visible()
    assert serious_violations(ada) == []
    ada.get_by_label("People").fill(bob_name)
    ada.get_by_role("button", name="Start the conversation").click()
    live(ada, bob_name)
    assert serious_violations(ada) == []
    ada.goto(server.url + "/")
    expect(ada.get_by_role("region", name="Your conversations")).to_be_visible()
    assert serious_violations(ada) == []


def test_without_javascript_a_conversation_starts_and_says_what_is_wrong(browser, server):
    ada_name, bob_name = accounts(server, "ada", "bob")
    ada = sign_in(browser, server, ada_name, java_script_enabled=False)
    ada.get_by_role("link", name="Message someone").click()
    ada.get_by_label("People").fill(f"{bob_name}, nobody_{bob_name}")
    ada.get_by_role("button", name="Start the conversation").click()
    expect(ada.locator(".field__error")).to_have_text(
        f"No member goes by this name: nobody_{bob_name}. Check the spelling."
    )
    expect(ada.get_by_label("People")).to_have_value(f"{bob_name}, nobody_{bob_name}")
    ada.get_by_label("People").fill(bob_name)
    ada.get_by_role("button", name="Start the conversation").click()
    expect(ada.get_by_role("heading", level=1)).to_have_text(bob_name)
    say(ada, "sent without scripts")
    expect(bodies(ada)).to_have_text(["sent without scripts"])


def test_a_guest_is_asked_to_sign_in(browser, server):
    page = browser.new_context().new_page()
    page.goto(server.url + "/messages/new/")
    expect(page.get_by_text("Conversations are between members")).to_be_visible()
    expect(page.get_by_label("People")).to_have_count(0)
    page.get_by_role("main").get_by_role("link", name="Log in").click()
    assert page.url.endswith("/accounts/login/?next=/messages/new/")


@needs_redis
def test_a_conversation_is_live_across_two_server_processes(browser, two_servers):
    one, two = two_servers
    ada_name, bob_name = accounts(one, "ada", "bob")
    ada = sign_in(browser, one, ada_name)
    message_someone(ada, bob_name)
    live(ada, bob_name)
    # Bob, on the other process, starts the same conversation and lands in it.
    bob = sign_in(browser, two, bob_name)
    message_someone(bob, ada_name)
    live(bob, ada_name)
    assert bob.url.removeprefix(two.url) == ada.url.removeprefix(one.url)
    say(ada, "from process one")
    expect(bodies(bob).last).to_have_text("from process one", timeout=LIVE_WITHIN * 1000)
    say(bob, "from process two")
    expect(bodies(ada).last).to_have_text("from process two", timeout=LIVE_WITHIN * 1000)
