from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "harken.accounts"
    label = "accounts"
    verbose_name = "Accounts and sessions"

    def ready(self) -> None:
        from harken.core.registry import registry

        from . import checks, signals  # noqa: F401 - connect the receivers and checks
        from .sessions import purge_stale

        registry.add_tick("sessions and lock-outs", purge_stale)
