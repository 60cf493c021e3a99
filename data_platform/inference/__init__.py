"""Inference kernels: a real tabular model (`model`), predicting it in chunks on a chosen
executor (`executors`: single, threads, processes, Ray), and the light predictor a worker
unpickles (`predictor`). No Dagster here. Import from the modules themselves: a spawned
worker that unpickles a light predictor does not pay for scikit-learn or matplotlib.
"""
