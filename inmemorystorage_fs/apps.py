"""The app config that registers this package's system checks."""

from django.apps import AppConfig


class InMemoryStorageConfig(AppConfig):
    """Register the checks of ``inmemorystorage_fs.checks`` when Django starts."""

    name = "inmemorystorage_fs"
    verbose_name = "In-memory storage"

    def ready(self) -> None:
        """Import the checks module, whose ``@register`` adds the checks."""
        from . import checks  # noqa: F401
