from django.contrib import admin

from .models import Invitation, LoopCase, LoopRule, OptOut, Question, Survey, SurveyResponse

admin.site.register([Survey, Question, Invitation, SurveyResponse, OptOut, LoopRule, LoopCase])
