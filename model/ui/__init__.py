"""Widget panels for the notebooks (ipywidgets + Altair); the logic stays in the library."""

from model.ui.panels import (
    ScissorPanel,
    SimulatorPanel,
    bundled_scenarios,
    enable_offline_charts,
)
from model.ui.plenary import PlenaryPanel
from model.ui.views import Simulation

__all__ = [
    "PlenaryPanel",
    "ScissorPanel",
    "Simulation",
    "SimulatorPanel",
    "bundled_scenarios",
    "enable_offline_charts",
]
