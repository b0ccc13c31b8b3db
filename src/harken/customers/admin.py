from django.contrib import admin

from .models import Contact, Customer, ProductLine, Region

admin.site.register([Region, ProductLine, Customer, Contact])
