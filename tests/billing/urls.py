from django.urls import path

from . import views

urlpatterns = [
    path("invoices/", views.upload_invoice, name="upload-invoice"),
    path("cache/", views.cache_report, name="cache-report"),
    path("statements/", views.upload_statement, name="upload-statement"),
    path("statements/<str:field>/<path:path>", views.serve_statement_file, name="statement-file"),
]
