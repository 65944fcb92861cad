from django.contrib import admin

from .models import Document, Photo

admin.site.register(Document)
admin.site.register(Photo)
