from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoomsConfig(AppConfig):
    name = "rooms"
    verbose_name = _("Chat rooms")

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_logged_out
        from django.db.models.signals import post_delete, post_save, pre_save

        from . import members, restrictions
        from .live.process import Live
        from .models import Ban, Membership

        # Everything live in this process (rooms.live.runtime() returns it): made here,
        # started by the first socket, stopped at shutdown.
        self.live = Live()

        user_logged_out.connect(
            members.close_sockets_on_logout, weak=False, dispatch_uid="parley-logout"
        )
        user = get_user_model()
        pre_save.connect(members.note_account_change, sender=user, dispatch_uid="parley-account")
        post_save.connect(members.account_saved, sender=user, dispatch_uid="parley-account")
        # Pages read a room's bans and roles from the cache (rooms/restrictions.py).
        for model in (Ban, Membership):
            for signal in (post_save, post_delete):
                signal.connect(
                    restrictions.forget_state,
                    sender=model,
                    dispatch_uid=f"parley-state-{model.__name__}-{signal is post_save}",
                )
