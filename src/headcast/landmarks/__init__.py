"""Photo decoding and MediaPipe face landmarks (478 points, 52 blendshape scores, head pose).

Design note:

* ``image_io.load_photo`` turns any file or byte string Pillow reads into an 8-bit sRGB :class:`Photo`
  (EXIF orientation, alpha, CMYK, 16-bit, size limits) and raises ``InputImageError`` with an actionable message.
* ``detector.FaceDetector`` owns one MediaPipe FaceLandmarker (IMAGE mode), created once per process and closed
  explicitly; ``detector.detect_landmarks`` applies the face policy and the small-face search and is the only
  code that knows MediaPipe's normalised units: :class:`Landmarks` are in ``Photo.pixels`` pixels.
* ``settings`` holds the frozen settings dataclasses; ``types`` the stage's output types.

Modules are imported directly (``from headcast.landmarks.detector import ...``); importing this package does not
import MediaPipe.
"""
