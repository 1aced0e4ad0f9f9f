"""Nexus Labs: interactive JupyterLab labs for backend engineering.

A notebook's setup cell is all a learner needs from here::

    from nexus_labs import open_lab, ____
    lab = open_lab("welcome")
"""

from nexus_labs._version import __version__
from nexus_labs.exercises.placeholder import ____
from nexus_labs.session import open_lab


def progress():
    """Show the progress dashboard (every lab, every exercise) as a widget."""
    from nexus_labs.exercises.dashboard import progress_dashboard

    return progress_dashboard()


__all__ = ["____", "__version__", "open_lab", "progress"]
