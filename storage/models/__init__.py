"""Every table of partybot; importing this package registers them on ``SQLModel.metadata``."""

from __future__ import annotations

from sqlmodel import SQLModel

from storage.models.accounts import Language, Role, RoleGrant, TelegramAccount
from storage.models.assessments import (
    Assessment,
    AssessmentScheme,
    AssessmentSubject,
    BranchGuidance,
    FiveLeadProposal,
    GuidanceClass,
    Rating,
    RectificationOrder,
    RectificationReport,
    RectificationState,
)
from storage.models.audit import AuditLog
from storage.models.base import NAMING_CONVENTION
from storage.models.funds import FundAllocation, FundPurpose, FundSource
from storage.models.invitations import (
    CodeAttempt,
    Invitation,
    RegistrationRequest,
    RegistrationState,
)
from storage.models.leadership import (
    ContactPoint,
    ContactVisit,
    DemonstrationSite,
    DutyReminder,
    DutyStep,
)
from storage.models.members import (
    Gender,
    InactiveReason,
    Member,
    MemberStatus,
    MemberStatusChange,
)
from storage.models.notices import AttachmentKind, Delivery, DeliveryKind, DeliveryState, Notice
from storage.models.operations import LeaderLease, ProcessedUpdate
from storage.models.orgs import OrgKind, OrgUnit
from storage.models.satisfaction import (
    Satisfaction,
    SatisfactionAnswer,
    SatisfactionSurvey,
    SurveyRaters,
    SurveyState,
)
from storage.models.sessions import (
    Attendance,
    AttendanceOutcome,
    AudienceKind,
    CheckinMethod,
    LeaveReason,
    LeaveState,
    ReminderState,
    Rsvp,
    SessionEscalation,
    SessionKind,
    SessionReminder,
    SessionSeries,
    SessionState,
    StudySession,
)
from storage.models.trainings import (
    ConfirmationMethod,
    Training,
    TrainingAssignee,
    TrainingConfirmation,
    TrainingKind,
    TrainingQuestion,
)

#: The metadata Alembic compares against (the same object as ``SQLModel.metadata``).
metadata = SQLModel.metadata

__all__ = [
    "NAMING_CONVENTION",
    "Assessment",
    "AssessmentScheme",
    "AssessmentSubject",
    "AttachmentKind",
    "Attendance",
    "AttendanceOutcome",
    "AudienceKind",
    "AuditLog",
    "BranchGuidance",
    "CheckinMethod",
    "CodeAttempt",
    "ConfirmationMethod",
    "ContactPoint",
    "ContactVisit",
    "Delivery",
    "DeliveryKind",
    "DeliveryState",
    "DemonstrationSite",
    "DutyReminder",
    "DutyStep",
    "FiveLeadProposal",
    "FundAllocation",
    "FundPurpose",
    "FundSource",
    "Gender",
    "GuidanceClass",
    "InactiveReason",
    "Invitation",
    "Language",
    "LeaderLease",
    "LeaveReason",
    "LeaveState",
    "Member",
    "MemberStatus",
    "MemberStatusChange",
    "Notice",
    "OrgKind",
    "OrgUnit",
    "ProcessedUpdate",
    "Rating",
    "RectificationOrder",
    "RectificationReport",
    "RectificationState",
    "RegistrationRequest",
    "RegistrationState",
    "ReminderState",
    "Role",
    "RoleGrant",
    "Rsvp",
    "Satisfaction",
    "SatisfactionAnswer",
    "SatisfactionSurvey",
    "SessionEscalation",
    "SessionKind",
    "SessionReminder",
    "SessionSeries",
    "SessionState",
    "StudySession",
    "SurveyRaters",
    "SurveyState",
    "TelegramAccount",
    "Training",
    "TrainingAssignee",
    "TrainingConfirmation",
    "TrainingKind",
    "TrainingQuestion",
    "metadata",
]
