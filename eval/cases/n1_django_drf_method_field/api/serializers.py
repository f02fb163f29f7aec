from rest_framework import serializers

from .models import Project


class ProjectSerializer(serializers.ModelSerializer):
    open_tasks = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = ["id", "name", "open_tasks"]

    def get_open_tasks(self, obj):
        return obj.tasks.filter(done=False).count()  # expect[n+1]
