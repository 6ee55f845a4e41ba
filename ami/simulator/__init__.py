"""A simulated PBX that speaks AMI over TCP the way the dialer dialplan on Asterisk does.

``SimulatedPbx`` (in :mod:`ami.simulator.server`) is the server; :mod:`ami.simulator.calls`
scripts each call after the captures in ``shared/ami-transcripts``;
:mod:`ami.simulator.population` decides who answers; ``dialer simulate-pbx`` runs it.
"""

from ami.simulator.population import Behaviour, FarEnd, PopulationModel, PopulationParams
from ami.simulator.server import VERBOSITY, SimAgent, SimulatedPbx

__all__ = [
    "VERBOSITY",
    "Behaviour",
    "FarEnd",
    "PopulationModel",
    "PopulationParams",
    "SimAgent",
    "SimulatedPbx",
]
