from django.contrib import admin

from .models import Acknowledgement, Distribution, Document, DocumentVersion

admin.site.register([Document, DocumentVersion, Distribution, Acknowledgement])
