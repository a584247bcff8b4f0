"""The metric models' networks (imported only when a metric model is loaded).

Torch definitions of BiSeNet and ST-LPIPS, and a TensorFlow-graph reader and torch runtime for FaceNet's frozen graph.
"""
