"""Can any node run a trial? Checked before anything is written, so a request that cannot fit never hangs.

Ray would accept `gpus_per_trial: 1` on a machine without a GPU and keep every trial pending for ever.
With embedded Ray the machine's CPUs and GPUs are known before Ray starts; on a cluster they are read
right after joining it. An autoscaling cluster may add a node that fits: `resources.wait_for_resources_s`
waits that long for one, and says so when the time runs out.
"""
from __future__ import annotations

import os
import time

from analysis.experiment_config import ConfigError, ExperimentConfig

Nodes = list[dict[str, float]]  # each node's total resources, e.g. {"CPU": 16, "GPU": 2}
POLL_S = 2.0


def machine_nodes() -> Nodes:
    """This machine as embedded Ray will see it: its usable CPUs and CUDA devices."""
    import torch

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return [{"CPU": float(cpus), "GPU": float(torch.cuda.device_count())}]


def cluster_nodes() -> Nodes:
    """The alive nodes of the Ray cluster this process is connected to."""
    import ray

    return [dict(n.get("Resources", {})) for n in ray.nodes() if n.get("Alive")]


def unmet(cfg: ExperimentConfig, nodes: Nodes, machine: bool = False) -> ConfigError | None:
    """The error naming the first per-trial request that no node can satisfy, or None when one can."""
    r = cfg.resources
    asks = (("cpus_per_trial", "CPU", r.cpus_per_trial), ("gpus_per_trial", "GPU", r.gpus_per_trial))
    for field, key, asked in asks:
        if asked <= 0 or any(n.get(key, 0.0) >= asked for n in nodes):
            continue
        largest = max((n.get(key, 0.0) for n in nodes), default=0.0)
        where = "this machine has" if machine else f"the largest of the cluster's {len(nodes)} node(s) has"
        return ConfigError(cfg.source, f"resources.{field}", asked,
                           f"no node can run a trial: {where} {largest:g} {key}(s); lower it, or run on a cluster "
                           f"that has such a node (--address)")
    return None


def check_machine(cfg: ExperimentConfig) -> None:
    """Before starting embedded Ray: refuse a request this machine cannot satisfy."""
    problem = unmet(cfg, machine_nodes(), machine=True)
    if problem:
        raise problem


def check_cluster(cfg: ExperimentConfig) -> None:
    """After joining a cluster: refuse at once, or wait up to `resources.wait_for_resources_s` for a node that fits."""
    problem = unmet(cfg, cluster_nodes())
    wait = cfg.resources.wait_for_resources_s
    if problem is None:
        return
    if not wait:
        raise problem
    deadline = time.monotonic() + wait
    while problem is not None and time.monotonic() < deadline:
        time.sleep(min(POLL_S, max(0.0, deadline - time.monotonic())))
        problem = unmet(cfg, cluster_nodes())
    if problem is not None:
        raise ConfigError(problem.source, problem.field, problem.value,
                          f"{problem.allowed.split(';')[0]} after waiting resources.wait_for_resources_s = {wait:g} s "
                          "for the cluster to add one")
