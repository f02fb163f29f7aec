from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("app", "0002_auto")]
    operations = [
        migrations.RunSQL("DELETE FROM app_cache"),
        migrations.RunSQL("UPDATE app_user SET flags = 0"),
    ]
