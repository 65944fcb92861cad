from django.db import models


class Upload(models.Model):
    title = models.CharField(max_length=100)
    file = models.FileField(upload_to="uploads/%Y/")
    picture = models.ImageField(upload_to="pictures/", blank=True)
