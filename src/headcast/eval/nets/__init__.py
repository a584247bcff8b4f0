"""The metric models' networks (imported only when a metric model is loaded).

Torch definition of ST-LPIPS, and a TensorFlow-graph reader and torch runtime for FaceNet's frozen graph. (BiSeNet,
the face-parsing network, is part of the pipeline: :mod:`headcast.parsing.bisenet`.)
"""
