"""Agents: the agent state machine, the board of a campaign's agents, and callback routing to agents.

Pure (no I/O, no asyncio): may import the kernel and ``ami``'s pure event types; the campaign runner
drives it and performs its effects. Must never import ``dialer.store``, ``dialer.campaign`` or ``ami.client``.
"""
