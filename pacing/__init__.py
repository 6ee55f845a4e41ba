"""Pure pacing algorithms: numbers in, decisions out. No I/O, no asyncio, no clock.

The campaign runner builds a :class:`CampaignSnapshot` on each decision tick, asks its
policy to :meth:`~PacingPolicy.decide`, and feeds outcomes back through ``observe_*``.
"""

from pacing.abandon import AbandonCounts, AbandonTracker
from pacing.compliance import (
    CONNECT_LIMIT_S,
    MIN_RING_S,
    STATUTORY_CAP,
    UK,
    US,
    ZERO,
    ComplianceProfile,
    profile_named,
)
from pacing.errors import InvalidParameter, PacingError, TimeWentBackwards, UnknownProfile
from pacing.policy import PacingPolicy
from pacing.predictive import Forecast, PredictivePolicy
from pacing.preview import PreviewPolicy, PushPreviewPolicy
from pacing.progressive import ProgressivePolicy, progressive_decision
from pacing.settings import PredictiveSettings
from pacing.snapshot import CallObservation, CampaignSnapshot, DialDecision, DialMode
from pacing.stats import (
    CallOutcomeKind,
    CallStatistics,
    DecayingLogNormal,
    DecayingShares,
    StatisticsSettings,
)

__all__ = [
    "CONNECT_LIMIT_S",
    "MIN_RING_S",
    "STATUTORY_CAP",
    "UK",
    "US",
    "ZERO",
    "AbandonCounts",
    "AbandonTracker",
    "CallObservation",
    "CallOutcomeKind",
    "CallStatistics",
    "CampaignSnapshot",
    "ComplianceProfile",
    "DecayingLogNormal",
    "DecayingShares",
    "DialDecision",
    "DialMode",
    "Forecast",
    "InvalidParameter",
    "PacingError",
    "PacingPolicy",
    "PredictivePolicy",
    "PredictiveSettings",
    "PreviewPolicy",
    "ProgressivePolicy",
    "PushPreviewPolicy",
    "StatisticsSettings",
    "TimeWentBackwards",
    "UnknownProfile",
    "policy_for",
    "profile_named",
    "progressive_decision",
]


def policy_for(mode: DialMode, profile: ComplianceProfile,
               settings: PredictiveSettings | None = None) -> PacingPolicy:
    """The policy for a campaign's dialing mode (predictive only where the profile allows)."""
    if mode is DialMode.PREVIEW:
        return PreviewPolicy()
    if mode is DialMode.PUSH_PREVIEW:
        return PushPreviewPolicy()
    if mode is DialMode.PROGRESSIVE or not profile.predictive_allowed:
        return ProgressivePolicy()
    return PredictivePolicy(profile, settings)
