from .models import Setting

FLAGS = ["maintenance", "signup_open"]


def flag_values():
    return {key: Setting.objects.filter(key=key).exists() for key in FLAGS}


def settings_map():
    return {s.key: s.value for s in Setting.objects.all()}
