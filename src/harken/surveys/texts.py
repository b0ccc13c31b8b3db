"""The words of surveys, by language.

Two kinds of text: what a person writes for one survey (its introduction, the wording
of each question, the invitation e-mail), kept in the survey's and questions' `texts`
as `{language: {key: text}}`; and the words of the public pages themselves (buttons,
error pages), kept here. A language is added by adding its dictionary to `UI` and its
defaults to `DEFAULTS`; a survey in a language this module does not know shows the
page's own words in English.
"""

from __future__ import annotations

from typing import Any

FALLBACK = "en"

LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
    "it": "Italiano",
    "nl": "Nederlands",
    "sv": "Svenska",
    "da": "Dansk",
    "nb": "Norsk",
    "fi": "Suomi",
    "pl": "Polski",
    "pt": "Português",
    "ja": "日本語",
}

UI: dict[str, dict[str, str]] = {
    "en": {
        "submit": "Send my answers",
        "start": "Answer the survey",
        "save": "Save and finish later",
        "saved": "Your answers so far are saved. You can come back with the same link.",
        "thanks_title": "Thank you",
        "thanks": "Thank you for your answers.",
        "already_title": "Already answered",
        "already": "We received your answers on {date}. Nothing was changed.",
        "expired_title": "This link has expired",
        "expired": "The survey link was valid until {date}. Thank you for your time all the same.",
        "closed_title": "This survey is closed",
        "closed": "The survey is no longer collecting answers.",
        "unknown_title": "We do not recognise this link",
        "unknown": (
            "The link may be incomplete: please copy the whole link from the e-mail. "
            "If it still does not work, reply to the e-mail and we will help."
        ),
        "limited_title": "Too many answers",
        "limited": "Too many answers came from your network in the last hour. Please try later.",
        "errors_title": "Please check your answers",
        "required": "Please answer this question.",
        "range": "Choose a number from {low} to {high}.",
        "choice": "Choose one of the options given.",
        "too_long": "Please keep this under {limit} characters.",
        "required_note": "Questions marked “required” need an answer.",
        "required_mark": "required",
        "optional_mark": "optional",
        "unsubscribe_title": "Stop survey e-mails",
        "unsubscribe_ask": "Stop sending survey invitations to {email}?",
        "unsubscribe_button": "Stop survey e-mails",
        "unsubscribed_title": "You are unsubscribed",
        "unsubscribed": "We will not send survey invitations to {email} again.",
        "select_any": "Select all that apply.",
        "scale_low": "{low} = {label}",
        "scale_high": "{high} = {label}",
        "stars": "{n} of {max} stars",
    },
    "de": {
        "submit": "Antworten senden",
        "start": "Zur Umfrage",
        "save": "Speichern und später fortsetzen",
        "saved": (
            "Ihre bisherigen Antworten sind gespeichert. Sie können mit demselben Link "
            "zurückkehren."
        ),
        "thanks_title": "Vielen Dank",
        "thanks": "Vielen Dank für Ihre Antworten.",
        "already_title": "Bereits beantwortet",
        "already": "Ihre Antworten sind am {date} eingegangen. Es wurde nichts geändert.",
        "expired_title": "Dieser Link ist abgelaufen",
        "expired": "Der Link war bis zum {date} gültig. Vielen Dank trotzdem für Ihre Zeit.",
        "closed_title": "Diese Umfrage ist geschlossen",
        "closed": "Die Umfrage nimmt keine Antworten mehr an.",
        "unknown_title": "Wir erkennen diesen Link nicht",
        "unknown": (
            "Der Link ist vielleicht unvollständig: Bitte kopieren Sie den ganzen Link aus "
            "der E-Mail. Wenn er dann nicht funktioniert, antworten Sie auf die E-Mail."
        ),
        "limited_title": "Zu viele Antworten",
        "limited": "Aus Ihrem Netz kamen in der letzten Stunde zu viele Antworten. Bitte später.",
        "errors_title": "Bitte prüfen Sie Ihre Antworten",
        "required": "Bitte beantworten Sie diese Frage.",
        "range": "Wählen Sie eine Zahl von {low} bis {high}.",
        "choice": "Wählen Sie eine der angebotenen Möglichkeiten.",
        "too_long": "Bitte höchstens {limit} Zeichen.",
        "required_note": "Mit „Pflichtfeld“ markierte Fragen brauchen eine Antwort.",
        "required_mark": "Pflichtfeld",
        "optional_mark": "freiwillig",
        "unsubscribe_title": "Keine Umfrage-E-Mails mehr",
        "unsubscribe_ask": "Keine Umfrage-Einladungen mehr an {email} senden?",
        "unsubscribe_button": "Keine Umfrage-E-Mails mehr",
        "unsubscribed_title": "Sie sind abgemeldet",
        "unsubscribed": "Wir senden keine Umfrage-Einladungen mehr an {email}.",
        "select_any": "Mehrere Antworten möglich.",
        "scale_low": "{low} = {label}",
        "scale_high": "{high} = {label}",
        "stars": "{n} von {max} Sternen",
    },
}


def ui(language: str, key: str, **params: Any) -> str:
    """One of the public pages' own texts in `language` (English when it has none)."""
    text = UI.get(language, {}).get(key) or UI[FALLBACK][key]
    return text.format(**params) if params else text


def ui_all(language: str) -> dict[str, str]:
    merged = dict(UI[FALLBACK])
    merged.update(UI.get(language, {}))
    return merged


# The texts a new survey starts with, by language and kind: edited in the builder.
SCORE_LABELS: dict[str, dict[str, tuple[str, str, str]]] = {
    # kind -> (question, low end, high end)
    "en": {
        "nps": (
            "How likely is it that you would recommend {company} to a colleague?",
            "Not at all likely",
            "Extremely likely",
        ),
        "csat": (
            "How satisfied are you with {company}?",
            "Very dissatisfied",
            "Very satisfied",
        ),
        "ces": (
            "{company} made it easy for me to get what I needed.",
            "Strongly disagree",
            "Strongly agree",
        ),
        "custom": ("How would you rate {company}?", "Poor", "Excellent"),
    },
    "de": {
        "nps": (
            "Wie wahrscheinlich ist es, dass Sie {company} einem Kollegen empfehlen?",
            "Äußerst unwahrscheinlich",
            "Äußerst wahrscheinlich",
        ),
        "csat": (
            "Wie zufrieden sind Sie mit {company}?",
            "Sehr unzufrieden",
            "Sehr zufrieden",
        ),
        "ces": (
            "{company} hat es mir leicht gemacht, zu bekommen, was ich brauchte.",
            "Stimme überhaupt nicht zu",
            "Stimme voll zu",
        ),
        "custom": ("Wie bewerten Sie {company}?", "Schlecht", "Ausgezeichnet"),
    },
}

WHY_LABELS: dict[str, str] = {
    "en": "What is the main reason for your score?",
    "de": "Was ist der wichtigste Grund für Ihre Bewertung?",
}

SURVEY_DEFAULTS: dict[str, dict[str, str]] = {
    "en": {
        "intro": "It takes about a minute. Your answers go to our quality team.",
        "thanks": "Thank you. We read every answer and act on what you tell us.",
        "invitation_subject": "{company}: one minute of your time?",
        "invitation_body": (
            "Dear $contact,\n\n"
            "we would like to know how well $company meets your needs. The survey "
            "takes about a minute:\n\n$link\n\n"
            "The link is personal to you and works until $expires.\n\n"
            "Thank you,\n$company\n\n"
            "To stop receiving survey invitations: $unsubscribe"
        ),
        "reminder_subject": "Reminder: {company} survey",
        "reminder_body": (
            "Dear $contact,\n\n"
            "a few days ago we asked for a minute of your time. If you have not answered "
            "yet, the survey is still open:\n\n$link\n\n"
            "The link works until $expires.\n\nThank you,\n$company\n\n"
            "To stop receiving survey invitations: $unsubscribe"
        ),
    },
    "de": {
        "intro": "Es dauert etwa eine Minute. Ihre Antworten gehen an unser Qualitätsteam.",
        "thanks": "Vielen Dank. Wir lesen jede Antwort und handeln danach.",
        "invitation_subject": "{company}: eine Minute Ihrer Zeit?",
        "invitation_body": (
            "Guten Tag $contact,\n\n"
            "wir möchten wissen, wie gut $company Ihre Anforderungen erfüllt. Die "
            "Umfrage dauert etwa eine Minute:\n\n$link\n\n"
            "Der Link gilt nur für Sie und bis zum $expires.\n\n"
            "Vielen Dank,\n$company\n\n"
            "Keine Umfrage-Einladungen mehr: $unsubscribe"
        ),
        "reminder_subject": "Erinnerung: Umfrage von {company}",
        "reminder_body": (
            "Guten Tag $contact,\n\n"
            "vor einigen Tagen baten wir Sie um eine Minute Ihrer Zeit. Die Umfrage ist "
            "noch offen:\n\n$link\n\n"
            "Der Link gilt bis zum $expires.\n\nVielen Dank,\n$company\n\n"
            "Keine Umfrage-Einladungen mehr: $unsubscribe"
        ),
    },
}

# Placeholders the e-mail texts may use (string.Template).
MAIL_PLACEHOLDERS = ("$contact", "$customer", "$company", "$survey", "$link", "$expires")
SURVEY_TEXT_KEYS = (
    "title",
    "intro",
    "thanks",
    "invitation_subject",
    "invitation_body",
    "reminder_subject",
    "reminder_body",
)

OUTCOME_TEMPLATE = """Dear $contact,

thank you for telling us about $complaint, which we received on $received.

What we found and what we did:

$resolution

If anything is still not right, please reply to this e-mail: it reaches our quality team.

Kind regards,
$sender
$company
"""


def survey_defaults(language: str, kind: str, title: str, company: str) -> dict[str, str]:
    """The texts a new survey starts with in `language` (English words if unknown)."""
    base = SURVEY_DEFAULTS.get(language) or SURVEY_DEFAULTS[FALLBACK]
    texts = {key: value.replace("{company}", company) for key, value in base.items()}
    texts["title"] = title
    return texts


def score_defaults(language: str, kind: str, company: str) -> dict[str, str]:
    labels = SCORE_LABELS.get(language) or SCORE_LABELS[FALLBACK]
    question, low, high = labels.get(kind) or labels["custom"]
    return {"label": question.replace("{company}", company), "low": low, "high": high}


def why_defaults(language: str) -> dict[str, str]:
    return {"label": WHY_LABELS.get(language) or WHY_LABELS[FALLBACK]}
