from django.apps import AppConfig


class RoomsConfig(AppConfig):
    name = "rooms"
    verbose_name = "Chat rooms"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out

        from .broadcast import end_identity

        def close_sockets(sender, request, user, **kwargs):
            if user is not None:
                end_identity(f"user.{user.pk}")

        user_logged_out.connect(close_sockets, weak=False, dispatch_uid="parley-logout")
