from django.apps import AppConfig

DEFAULT_GROUPS = ("admins", "editors", "viewers")


class CoreConfig(AppConfig):
    name = "core"

    def ready(self):
        from .models import Group

        for name in DEFAULT_GROUPS:
            Group.objects.get_or_create(name=name)
