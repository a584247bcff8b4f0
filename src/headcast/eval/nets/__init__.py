"""Torch network definitions of the metric models (imported only when a metric model is loaded; needs torch)."""
