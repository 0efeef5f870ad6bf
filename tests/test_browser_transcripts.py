"""A day's page in a real Chromium without JavaScript, and an open room while old messages
are pruned from it."""

import pytest
from playwright.sync_api import expect

from .pages import bodies, enter, say, serious_violations
from .servers import run_python

pytestmark = pytest.mark.e2e


def test_a_days_page_reads_without_javascript(browser, server):
    ada = enter(browser, server, "Transcript Day", "ada", java_script_enabled=False)
    say(ada, "said today")
    say(ada, "<script>window.__xss = 1</script> and **bold**")
    ada.get_by_role("link", name="Transcript", exact=True).click()
    expect(ada.get_by_role("heading", level=1)).to_contain_text("Transcript Day")
    messages = ada.locator(".transcript__messages .message__body")
    expect(messages).to_have_text(["said today", "<script>window.__xss = 1</script> and bold"])
    expect(ada.locator(".transcript__messages strong")).to_have_text("bold")
    # The first day of the room: nothing before it, nothing after it yet.
    expect(ada.locator("a[rel=prev], a[rel=next]")).to_have_count(0)
    expect(ada.get_by_role("link", name="plain text")).to_have_attribute("href", "?format=txt")
    # Checked with scripts on (axe-core is one): the same page, as another reader sees it.
    bob = enter(browser, server, "Transcript Day", "bob", bypass_csp=True)
    bob.goto(ada.url)
    expect(bob.locator(".transcript__messages .message")).to_have_count(2)
    assert serious_violations(bob) == []
    ada.get_by_role("link", name="Back to the room").first.click()
    expect(bodies(ada)).to_have_text(["said today", "<script>window.__xss = 1</script> and bold"])


def test_an_open_room_goes_on_while_old_messages_are_pruned(browser, server):
    ada = enter(browser, server, "Pruned Live", "ada")
    say(ada, "long ago")
    expect(bodies(ada)).to_have_text(["long ago"])
    # Made old, then pruned from the server's database by the command cron would run: older
    # than anything other tests sharing the server keep, so theirs stay.
    run_python(
        server.env,
        "manage.py",
        "shell",
        "-c",
        "import datetime; from django.utils import timezone; from rooms.models import Message\n"
        "Message.objects.filter(room__slug='pruned-live')"
        ".update(created=timezone.now() - datetime.timedelta(days=40_000))",
        check=True,
    )
    pruned = run_python(server.env, "manage.py", "prune_messages", "--days", "36500", check=True)
    assert "Removed 1 messages" in pruned.stdout
    bob = enter(browser, server, "Pruned Live", "bob")
    expect(bodies(bob)).to_have_count(0)
    say(bob, "after pruning")
    # Ada's open page keeps what it showed and gets the new message live.
    expect(bodies(ada)).to_have_text(["long ago", "after pruning"])
    say(ada, "and on we go")
    expect(bodies(bob)).to_have_text(["after pruning", "and on we go"])
