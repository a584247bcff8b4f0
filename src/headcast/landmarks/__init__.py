"""Photo decoding and MediaPipe face landmarks (478 points, 52 blendshape scores, head pose)."""
