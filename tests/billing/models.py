"""Models whose files go through every kind of storage a real project has."""

from django.core.files.storage import FileSystemStorage, storages
from django.db import models

from .storages import ARCHIVE, EXPORTS, REPORTS, ThumbStorage, get_scan_storage


class Invoice(models.Model):
    pdf = models.FileField(storage=storages["private"], upload_to="invoices/")
    scan = models.FileField(storage=get_scan_storage, upload_to="scans/", blank=True)
    thumb = models.ImageField(storage=ThumbStorage(), upload_to="thumbs/", blank=True)


class Attachment(models.Model):
    """A file manager's model: its own storage at MEDIA_ROOT (django-filer does this)."""

    file = models.FileField(storage=FileSystemStorage(), upload_to="attachments/")


class Contract(models.Model):
    """A model whose field holds an alias the settings already keep in memory."""

    file = models.FileField(storage=storages["vault"], upload_to="contracts/")


class Statement(models.Model):
    """A model whose files go to S3, Google Cloud Storage and Azure, through django-storages."""

    report = models.FileField(storage=REPORTS, upload_to="monthly/", max_length=1100)
    export = models.FileField(storage=EXPORTS, upload_to="csv/", blank=True)
    archive = models.FileField(storage=ARCHIVE, upload_to="zips/", blank=True)
