// Live webcam puppeteering: MediaPipe Face Landmarker (npm @mediapipe/tasks-vision; its wasm and the
// face_landmarker.task model served by our own gateway, never a third-party host) tracks the user's face in the
// browser; its 52 ARKit-named blendshape scores drive the avatar's morph targets of the same names, its facial
// transformation matrix the Head joint, and its eyeLook* scores the LeftEye/RightEye joints, each smoothed
// (web/src/tracking.js has the maths and the conventions).
import { FaceLandmarker } from "@mediapipe/tasks-vision";

import { PoseSmoother, trackedPose } from "./tracking.js";

/** Where the gateway serves MediaPipe's wasm (copied from the npm package by web/build.mjs) and the model. */
export const WASM_FILESET = {
  wasmLoaderPath: "/static/mediapipe/vision_wasm_internal.js",
  wasmBinaryPath: "/static/mediapipe/vision_wasm_internal.wasm",
};
export const MODEL_URL = "/api/tracking/face_landmarker.task";

/**
 * The camera, the landmarker and the loop: `start()` asks for the camera and calls `onPose(pose, stats)` for every
 * tracked video frame (pose smoothed; null while no face is seen); `stop()` releases the camera. `stats`: frames
 * tracked, tracking frames per second over the last ~2 s, and the last detection's milliseconds.
 */
export class CameraPuppet {
  constructor({ targetNames, onPose, smoothing = {} }) {
    this.targetNames = targetNames;
    this.onPose = onPose;
    this.smoother = new PoseSmoother(smoothing);
    this.running = false;
    this.hold = false; // while true no frame is tracked and the avatar keeps its pose (steady pictures in tests)
    this.stats = { frames: 0, fps: 0, detectMs: 0 };
    this.times = [];
  }

  async start() {
    if (this.running) return;
    this.stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
    this.video = document.createElement("video");
    this.video.muted = true;
    this.video.playsInline = true;
    this.video.srcObject = this.stream;
    await this.video.play();
    this.landmarker ??= await FaceLandmarker.createFromOptions(WASM_FILESET, {
      baseOptions: { modelAssetPath: MODEL_URL, delegate: "CPU" },
      runningMode: "VIDEO",
      numFaces: 1,
      outputFaceBlendshapes: true,
      outputFacialTransformationMatrixes: true,
    });
    this.running = true;
    this.lastVideoTime = -1;
    this.loop();
  }

  loop() {
    if (!this.running) return;
    const video = this.video;
    if (!this.hold && video.readyState >= 2 && video.currentTime !== this.lastVideoTime) {
      this.lastVideoTime = video.currentTime;
      const now = performance.now();
      const result = this.landmarker.detectForVideo(video, now);
      this.stats.detectMs = performance.now() - now;
      this.stats.frames += 1;
      this.times.push(now);
      while (this.times.length > 2 && now - this.times[0] > 2000) this.times.shift();
      const span = (this.times[this.times.length - 1] - this.times[0]) / 1000;
      this.stats.fps = span > 0 ? (this.times.length - 1) / span : 0;
      const pose = trackedPose(result, this.targetNames);
      this.onPose(pose ? this.smoother.smooth(pose, now / 1000) : null, this.stats);
    }
    this.frame = requestAnimationFrame(() => this.loop());
  }

  stop() {
    this.running = false;
    if (this.frame) cancelAnimationFrame(this.frame);
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = null;
    this.onPose(null, this.stats);
  }
}
