"""Callbacks that connect training loops to a study: report, stop when told, checkpoint.

Import the one for your framework; each imports its framework only then, with an install
hint when it is missing:

- ``hypersearch.integrations.torch``: ``TorchTrialLoop`` for hand-written PyTorch loops;
- ``hypersearch.integrations.lightning``: ``HypersearchCallback``
  (``pip install "hypersearch[lightning]"``);
- ``hypersearch.integrations.keras``: ``HypersearchKerasCallback``
  (Keras 3; PyTorch is its backend when you chose none, see ``hypersearch.keras.backend``).

All report the number of epochs completed as the step (``hypersearch.integrations.steps``).
Experiment trackers (optimize callbacks): ``tensorboard``, ``mlflow``; ``trackers`` builds
them from ``--log-to`` specs, ``tracking`` holds what they share.
"""
