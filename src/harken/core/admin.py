from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import User


@admin.register(User)
class HarkenUserAdmin(UserAdmin):
    """Administrators manage people and their roles (groups) here."""
