"""Replay benchmark: real learning curves in a table, searchers and schedulers replayed on a simulated clock.

    PYTHONPATH=$PWD python -m benchmarks.replay.build_table --space lenet5 --configs 6 ...   # train, append rows
    PYTHONPATH=$PWD python -m benchmarks.replay.simulate TABLE --seeds 50                   # replay every method
"""
