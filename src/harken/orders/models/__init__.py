"""Enquiries, requirement reviews, offers, orders, changes, escalations and notices, and
what the quality roles configure about them."""

from .config import EscalationRule, Intake, IntakeProfile, ReviewQuestion, intake_for
from .enquiries import (
    Enquiry,
    EnquiryAttachment,
    Offer,
    RequirementReview,
    ReviewAnswer,
    missing_intake,
)
from .escalations import Escalation, Notice
from .orders import ChangeRequest, Order, OrderVersion, acceptance_blockers, difference_review_of

__all__ = [
    "ChangeRequest",
    "Enquiry",
    "EnquiryAttachment",
    "Escalation",
    "EscalationRule",
    "Intake",
    "IntakeProfile",
    "Notice",
    "Offer",
    "Order",
    "OrderVersion",
    "RequirementReview",
    "ReviewAnswer",
    "ReviewQuestion",
    "acceptance_blockers",
    "difference_review_of",
    "intake_for",
    "missing_intake",
]
