"""Datasets, model builders and the training loop that reports to Ray Tune."""
