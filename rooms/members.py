"""The names people go by, as the rooms see them: members' names nobody can imitate,
a guest's name taken in its session, and sockets that end when the name or account
they were opened with does.

Whatever saves a user (sign-up, the admin, the password change page, a script calling
set_password and save) goes through these signal handlers, so no path is missed.
"""

import logging

from django.db import IntegrityError, transaction

from .events import end_identity
from .identity import identify, member_key, remember
from .models import MemberName
from .names import name_keys

log = logging.getLogger(__name__)

# Saving these fields can end what a member's open sockets may do.
ACCOUNT_FIELDS = {"password", "is_active"}


def note_account_change(sender, instance, update_fields=None, **kwargs) -> None:
    """Before a user is saved: will this save end their sockets (a new password, or
    deactivated)? Read from the record, so a change made any way is seen."""
    instance._parley_ends_sockets = False
    if instance._state.adding or instance.pk is None:
        return
    if update_fields is not None and not ACCOUNT_FIELDS & set(update_fields):
        return  # logging in saves last_login alone
    before = sender.objects.filter(pk=instance.pk).values("password", "is_active").first()
    if before is not None:
        instance._parley_ends_sockets = before["password"] != instance.password or (
            before["is_active"] and not instance.is_active
        )


def account_saved(sender, instance, created: bool, update_fields=None, **kwargs) -> None:
    if update_fields is None or "username" in update_fields:
        hold_name(instance)
    if getattr(instance, "_parley_ends_sockets", False):
        key = member_key(instance.pk)
        # After commit: a socket that reconnects at once must find the change stored.
        transaction.on_commit(lambda: end_identity(key, account_changed=True))


def hold_name(user) -> bool:
    """Store the member's name in its look-alike forms; False when another member
    already holds a name that looks the same (accounts from before this rule, or made
    in the admin): that member's row keeps the name from guests all the same."""
    folded, mapped = name_keys(user.get_username())
    try:
        with transaction.atomic():
            MemberName.objects.update_or_create(
                user=user, defaults={"folded": folded, "mapped": mapped}
            )
    except IntegrityError:
        log.warning("member %s has a name that looks like another member's", user.pk)
        MemberName.objects.filter(user=user).delete()
        return False
    return True


def take_name(session, name: str) -> None:
    """A browser takes a guest name (joining, or renaming itself). Sockets opened under
    the name it had must not go on posting with it: they end, and their pages are told
    the new one."""
    before = identify(session)
    remember(session, name)
    if before is not None and before.name != name:
        end_identity(before.key, now=identify(session))


def close_sockets_on_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        end_identity(member_key(user.pk))
