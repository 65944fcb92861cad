"""Views that write through each of the project's storages."""

from django.core.files.base import ContentFile
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from .models import Invoice
from .storages import LOCAL_CACHE


@csrf_exempt
def upload_invoice(request: HttpRequest) -> HttpResponse:
    """Save an invoice with the uploaded pdf, scan and thumb."""
    invoice = Invoice(pdf=request.FILES["pdf"])
    if "scan" in request.FILES:
        invoice.scan = request.FILES["scan"]
    if "thumb" in request.FILES:
        invoice.thumb = request.FILES["thumb"]
    invoice.save()
    return HttpResponse(
        f"{invoice.pk} {invoice.pdf.name} {invoice.scan.name} {invoice.thumb.name}"
    )


@csrf_exempt
def cache_report(request: HttpRequest) -> HttpResponse:
    """Write a report through a module-level storage that no swap reaches."""
    name = LOCAL_CACHE.save("reports/report.txt", ContentFile(request.body or b"report"))
    return HttpResponse(name)
