from django.urls import path

from . import views

urlpatterns = [
    path("invoices/", views.upload_invoice, name="upload-invoice"),
    path("cache/", views.cache_report, name="cache-report"),
]
