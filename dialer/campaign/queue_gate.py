"""Whether a campaign's Asterisk queue exists, and the runner's refusal to dial while it does not.

Why refuse. Queues cannot be created over AMI (they live in ``queues.conf``). A call sent into
a queue Asterisk does not know leaves ``Queue()`` at once (``QUEUESTATUS=UNKNOWN``), so every
person who answers hears the abandon message: each live answer becomes an abandoned call, the
one thing the regulator counts. And the agents' ``QueueAdd`` is refused ("No such queue"), so
nobody could have taken the call anyway. A real dialer does not dial into that; this one pauses
launching (reason ``queue_missing``), says so at error level once (``campaign_queue_missing``,
naming the queue and the file to fix), sets ``dialer_campaign_queue_missing{campaign}`` to 1,
and asks again every ``recheck_s``, so a ``module reload app_queue.so`` after fixing
``queues.conf`` resumes the campaign without a restart.

When it asks: on the runner's first turn with the PBX connected, again after every reconnect
(a restarted Asterisk may have another configuration), and every ``recheck_s`` while the queue
is missing or the answer was unknown (no server answered the QueueStatus).
"""

from __future__ import annotations

import math

import structlog

from dialer.model import Campaign
from dialer.observability.metrics import DialerMetrics
from dialer.ports import PbxPort

log = structlog.get_logger(__name__)

__all__ = ["QueueGate"]


class QueueGate:
    """The campaign's queue as the PBX knows it (see the module docstring).

    Args:
        campaign: whose queue (``campaign.queue``) to check.
        pbx: the port that answers ``queue_exists``.
        metrics: ``queue_missing`` is set per campaign.
        recheck_s: the pause between checks while the queue is missing or the answer unknown
            (``RunnerSettings.queue_recheck_s``, 30 s: a fixed configuration resumes dialling
            within a minute, at no measurable load on Asterisk).
    """

    def __init__(self, campaign: Campaign, pbx: PbxPort, metrics: DialerMetrics, *, recheck_s: float) -> None:
        self._campaign = campaign
        self._pbx = pbx
        self._gauge = metrics.queue_missing.labels(campaign.name)
        self._recheck_s = recheck_s
        self._next_at = -math.inf
        self.missing = False
        self._log = log.bind(campaign_id=campaign.id, campaign=campaign.name)

    def reconnected(self) -> None:
        """The PBX connection came back: ask again on the next turn."""
        self._next_at = -math.inf

    async def tend(self, now: float) -> None:
        """Ask the PBX when due (call only while it is connected)."""
        if now < self._next_at:
            return
        queue = self._campaign.queue
        exists = await self._pbx.queue_exists(queue)
        if exists is None:
            self._next_at = now + self._recheck_s
            return
        if not exists:
            self._next_at = now + self._recheck_s
            if not self.missing:
                self._log.error(
                    "campaign_queue_missing",
                    queue=queue,
                    action="not dialling: add the queue to queues.conf on every Asterisk server"
                    " and run 'module reload app_queue.so' (asterisk-conf/README.md)",
                )
            self.missing = True
            self._gauge.set(1)
            return
        self._next_at = math.inf
        if self.missing:
            self._log.info("campaign_queue_found", queue=queue)
        self.missing = False
        self._gauge.set(0)
