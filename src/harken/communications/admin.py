from django.contrib import admin

from .models import (
    Attachment,
    Communication,
    CommunicationLink,
    LifecycleStage,
    Mailbox,
    MailRun,
    Thread,
)

admin.site.register(
    [Mailbox, Thread, Communication, Attachment, CommunicationLink, MailRun, LifecycleStage]
)
