// headcast 3D viewer: shows avatar.glb (fetched as a blob by app.js) with orbit controls. Bundled by esbuild.
import * as THREE from "three";
import { GLTFLoader } from "three/examples/jsm/loaders/GLTFLoader.js";
import { OrbitControls } from "three/examples/jsm/controls/OrbitControls.js";

export function showAvatar(canvas, glbUrl) {
  const renderer = new THREE.WebGLRenderer({ canvas, antialias: false });
  renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2));
  renderer.setSize(canvas.clientWidth, canvas.clientHeight, false);
  const scene = new THREE.Scene();
  scene.background = new THREE.Color(0xf2f2f2);
  scene.add(new THREE.HemisphereLight(0xffffff, 0x666666, 2.0));
  const key = new THREE.DirectionalLight(0xffffff, 1.5);
  key.position.set(1, 1, 2);
  scene.add(key);
  const camera = new THREE.PerspectiveCamera(30, canvas.clientWidth / canvas.clientHeight, 0.01, 100);
  const controls = new OrbitControls(camera, canvas);
  new GLTFLoader().load(glbUrl, (gltf) => {
    scene.add(gltf.scene);
    const box = new THREE.Box3().setFromObject(gltf.scene);
    const centre = box.getCenter(new THREE.Vector3());
    const size = box.getSize(new THREE.Vector3()).length();
    camera.position.copy(centre).add(new THREE.Vector3(0, 0, size * 1.6));
    controls.target.copy(centre);
    controls.update();
  });
  renderer.setAnimationLoop(() => renderer.render(scene, camera));
}
