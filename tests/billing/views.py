"""Views that write through each of the project's storages."""

from django.core.files.base import ContentFile
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from inmemorystorage_fs.views import serve

from .models import Invoice, Statement
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


@csrf_exempt
def upload_statement(request: HttpRequest) -> HttpResponse:
    """Save a statement with each uploaded file, on S3, Google Cloud Storage and Azure."""
    statement = Statement(**{field: request.FILES[field] for field in request.FILES})
    statement.save()
    return HttpResponse(statement.report.name)


def serve_statement_file(request: HttpRequest, field: str, path: str) -> HttpResponseBase:
    """Serve a file of one of Statement's storages (its in-memory stand-in in tests)."""
    return serve(request, path, storage=Statement._meta.get_field(field).storage)  # type: ignore[union-attr]
