"""`make cluster`: Parley on several hosts of this machine (docs/deploy.md, "Several hosts").

Run as `python -m config.cluster up|down|status`; tests/test_cluster.py drives Cluster.
"""

from .cluster import Cluster, missing_programs

__all__ = ["Cluster", "missing_programs"]
