"""Each node decodes a search's dataset once and keeps it in its own object store; trials read it there.

Before, the driver loaded the whole dataset and `tune.with_parameters` put it into the driver node's object
store, from where every other node pulled its copy: the driver held it all, and every byte left the driver's
node. Now the driver hands trials a `DataSource` (a few hundred bytes) and starts one `NodeData` actor per
node (`start_loaders`), which decodes the data on its node and puts it into that node's object store. A trial
asks its node's actor (by name; a node that joined later gets its own on the first trial there) and maps the
arrays from shared memory without a copy. The actors are the driver's: they end with it.
"""
from __future__ import annotations

from typing import Any

from .data import TrialData
from .data.source import DataSource

PREFIX = "hpsearch-data"


def actor_name(source: DataSource, node_id: str) -> str:
    return f"{PREFIX}-{source.key()}-{node_id[:16]}"


class NodeData:
    """Holds one decoded dataset in the object store of the node it runs on."""

    def __init__(self, source: DataSource) -> None:
        self.source = source
        self.ref: Any = None
        self.decoded = 0

    def get(self) -> list[Any]:
        """[ObjectRef of the TrialData], decoding it on the first call (calls run one at a time)."""
        import ray

        if self.ref is None:
            self.ref = ray.put(self.source.load())
            self.decoded += 1
        return [self.ref]  # in a list: Ray hands the reference, not the arrays, to the caller

    def decodes(self) -> int:
        """How often this node decoded the data: once, however many trials ran on it."""
        return self.decoded


def _actor_on(source: DataSource, node_id: str) -> Any:
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    # restarted (and the call retried) if it dies, e.g. killed by Ray's memory monitor while decoding
    cls = ray.remote(num_cpus=0, max_restarts=2, max_task_retries=2)(NodeData)
    return cls.options(name=actor_name(source, node_id), get_if_exists=True,
                       scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False)).remote(source)


def start_loaders(source: DataSource) -> list[Any]:
    """One loader per alive node that can run trials (has CPUs), each decoding now; keep the handles for the
    whole search."""
    import ray

    actors = [_actor_on(source, n["NodeID"]) for n in ray.nodes()
              if n.get("Alive") and n.get("Resources", {}).get("CPU", 0) > 0]
    for actor in actors:
        actor.get.remote()  # start decoding on every node while Tune schedules the first trials
    return actors


def node_trial_data(source: DataSource) -> TrialData:
    """The data of `source` from this node's object store (decoded here once, by this node's loader)."""
    import ray

    node = ray.get_runtime_context().get_node_id()
    try:
        actor = ray.get_actor(actor_name(source, node))
    except ValueError:  # a node that joined after the launch
        actor = _actor_on(source, node)
    refs: list[Any] = ray.get(actor.get.remote())
    return ray.get(refs[0])
