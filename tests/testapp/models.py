from typing import Any

from django.db import models
from django.db.models.signals import post_delete
from django.dispatch import receiver

from inmemorystorage_fs import InMemoryStorage


def upload_to_owner(instance: "Document", filename: str) -> str:
    return f"owners/{instance.owner or 'nobody'}/{filename}"


class Document(models.Model):
    owner = models.CharField(max_length=50, blank=True)
    upload = models.FileField(upload_to="documents/")
    attachment = models.FileField(upload_to=upload_to_owner, blank=True)


class Photo(models.Model):
    image = models.ImageField(upload_to="photos/%Y/", width_field="width", height_field="height")
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)


class Archive(models.Model):
    """A model whose field names its own storage, as migrations record it."""

    blob = models.FileField(storage=InMemoryStorage(base_url="/archive/"), upload_to="blobs/")


@receiver(post_delete, sender=Photo)
def delete_photo_file(sender: type[Photo], instance: Photo, **kwargs: Any) -> None:
    """Delete the image with its row, as apps that clean up their uploads do."""
    instance.image.delete(save=False)
