// The `web` quality's GLB compressor: headcast's own (uncompressed, float) avatar.glb in, the same scene out with
// quantised attributes (KHR_mesh_quantization) and meshoptimizer-compressed buffers (EXT_meshopt_compression).
// glTF-Transform does the work (its meshopt() transform: reorder, quantise, filter, encode; the morph targets' deltas
// are quantised here, see compress()), meshoptimizer's own encoder is the codec. Nothing here is headcast-specific. (Writing the mostly-zero morph-target normals as sparse
// accessors was tried: every variant came out larger after meshopt than dense, so everything is written dense.)
//
//   node compress.mjs IN.glb OUT.glb '{"positionBits": 11, "normalBits": 8, "texcoordBits": 12}'
//                                                ("reference": true: glTF-Transform's meshopt() as published, for
//                                                the test of this file's faster morph-target quantisation)
//   node compress.mjs --decode IN.glb OUT.glb    the meshopt compression undone (the quantisation stays): a GLB
//                                                that tools without EXT_meshopt_compression can read and check
//   node compress.mjs --serve                    one file per stdin line, {"input", "output", "options"} JSON,
//                                                one JSON line answered per file (see serve())
//
// Prints one JSON line: {"bytesIn": ..., "bytesOut": ..., "ms": ...}. Exit status 2 on a bad command line, 1 on
// any other failure (the message on stderr).
//
// build.mjs bundles this file with its npm packages into src/headcast/export/node/compress.mjs (one file, run by
// headcast.export.compress with `node`); it is not kept in git.
import { readFileSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";

import { Logger, NodeIO } from "@gltf-transform/core";
import { EXTMeshoptCompression, KHRMeshQuantization, KHRONOS_EXTENSIONS } from "@gltf-transform/extensions";
import { dedup, meshopt, prune, quantize, reorder } from "@gltf-transform/functions";
import { MeshoptDecoder, MeshoptEncoder } from "meshoptimizer";

/**
 * Quantise and meshopt-compress every mesh of `document`, after dedup: glTF-Transform's meshopt() transform
 * (reorder, quantize, the EXT_meshopt_compression encoder at level "high"), with one part of it done here.
 *
 * Quantising the morph targets' POSITION and NORMAL deltas is nearly all of quantize()'s work for a head with
 * 57+ targets (millions of components read and written one accessor element at a time: ~1 s of the ~1.5 s this
 * took); quantizeTarget() does the same arithmetic on whole typed arrays in ~0.1 s, and quantize() does everything
 * else (base attributes, node and skin transforms). The output holds the same accessors with the same values (only
 * their order in the file differs); `options.reference` runs meshopt() as published, and
 * tests/export/test_compress_targets.py compares the two.
 */
async function compress(document, options) {
  const meshoptOptions = {
    encoder: MeshoptEncoder,
    level: "high",
    quantizePosition: options.positionBits,
    quantizeNormal: options.normalBits,
    quantizeTexcoord: options.texcoordBits,
  };
  if (options.reference) {
    await document.transform(dedup(), meshopt(meshoptOptions));
    return;
  }
  await document.transform(dedup());
  if (document.getRoot().listAccessors().length === 0) return; // as meshopt()
  if (document.hasExtension("KHR_mesh_primitive_restart")) throw new Error("meshopt: Missing support for KHR_mesh_primitive_restart.");
  await document.transform(reorder({ encoder: MeshoptEncoder, target: "size" }));
  const scales = new Map(document.getRoot().listMeshes().map((mesh) => [mesh, quantizationScale(mesh)]));
  // meshopt()'s "high" level: normals of the base primitives stay float (the encoder's filter packs them); every
  // target semantic is quantised, POSITION and NORMAL below
  const normalBits = Math.min(options.normalBits, 8);
  await document.transform(quantize({
    ...meshoptOptions,
    quantizeNormal: normalBits,
    pattern: /^(POSITION|TEXCOORD|JOINTS|WEIGHTS|COLOR)(_\d+)?$/,
    cleanup: false, // the clean-up below does it once, after the targets
    patternTargets: /^(TEXCOORD|JOINTS|WEIGHTS|COLOR|TANGENT)(_\d+)?$/,
  }));
  for (const mesh of document.getRoot().listMeshes()) {
    for (const prim of mesh.listPrimitives()) {
      for (const target of prim.listTargets()) {
        quantizeTarget(target, "POSITION", 1 / scales.get(mesh), options.positionBits);
        quantizeTarget(target, "NORMAL", 1, normalBits);
      }
    }
  }
  // quantize()'s own clean-up, once for both steps: drop the float originals, merge equal quantised accessors
  await document.transform(
    prune({ propertyTypes: ["Accessor", "Skin", "Material"], keepAttributes: true, keepIndices: true, keepLeaves: true,
      keepSolidTextures: true }),
    dedup({ propertyTypes: ["Accessor", "Material", "Skin"], keepUniqueNames: true }),
  );
  document.createExtension(EXTMeshoptCompression).setRequired(true)
    .setEncoderOptions({ method: EXTMeshoptCompression.EncoderMethod.FILTER });
}

/**
 * The scale of quantize()'s per-mesh volume ("mesh" quantization volume): half the largest side of the box around
 * the base positions and twice every target's position delta (and the origin), as glTF-Transform computes it.
 */
function quantizationScale(mesh) {
  const box = { min: [Infinity, Infinity, Infinity], max: [-Infinity, -Infinity, -Infinity] };
  const rel = { min: [Infinity, Infinity, Infinity], max: [-Infinity, -Infinity, -Infinity] };
  let relative = false;
  for (const prim of mesh.listPrimitives()) {
    const position = prim.getAttribute("POSITION");
    if (position) expand(box, position);
    for (const target of prim.listTargets()) {
      const delta = target.getAttribute("POSITION");
      if (delta) { expand(rel, delta); relative = true; }
    }
  }
  if (relative) {
    for (let i = 0; i < 3; i++) {
      box.min[i] = Math.min(box.min[i], Math.min(rel.min[i] * 2, 0));
      box.max[i] = Math.max(box.max[i], Math.max(rel.max[i] * 2, 0));
    }
  }
  return Math.max((box.max[0] - box.min[0]) / 2, (box.max[1] - box.min[1]) / 2, (box.max[2] - box.min[2]) / 2);
}

/** Grow `box` by an accessor's per-component min and max (Accessor.getMinNormalized / getMaxNormalized). */
function expand(box, accessor) {
  const lo = accessor.getMinNormalized([]), hi = accessor.getMaxNormalized([]);
  for (let i = 0; i < 3; i++) {
    box.min[i] = Math.min(box.min[i], lo[i]);
    box.max[i] = Math.max(box.max[i], hi[i]);
  }
}

/**
 * One float morph-target attribute → signed normalised integers of `bits` bits (Int8 up to 8, else Int16), times
 * `factor` first (positions: 1 / the mesh's quantization scale), as quantize() does it: the value is rounded to
 * float32 after scaling, clamped to [-1, 1], scaled by 2^(bits-1) - 1, rounded, and its bits replicated into the
 * unused low bits of the storage type. The accessor is replaced by a quantised clone (the original is pruned).
 */
function quantizeTarget(target, semantic, factor, bits) {
  const source = target.getAttribute(semantic);
  if (!source || source.getComponentSize() <= bits / 8) return; // absent, or already small (as quantize())
  if (source.getNormalized() || !(source.getArray() instanceof Float32Array)) {
    throw new Error(`compress: morph target ${semantic} is not a float32 accessor`);
  }
  const Ctor = bits <= 8 ? Int8Array : Int16Array;
  const quantBits = bits - 1;
  const storageBits = Ctor.BYTES_PER_ELEMENT * 8 - 1;
  const scale = Math.pow(2, quantBits) - 1;
  const lo = storageBits - quantBits;
  const hi = 2 * quantBits - storageBits;
  const src = source.getArray();
  const out = new Ctor(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = factor === 1 ? src[i] : Math.fround(factor * src[i]); // the float32 quantize() stores and reads back
    let q = Math.round((v < 0 ? (v < -1 ? 1 : -v) : (v > 1 ? 1 : v)) * scale);
    q = q << lo | q >> hi;
    out[i] = v < 0 ? -q : q; // q · sign(v): zero stays zero
  }
  const copy = source.setArray(new Float32Array(0)).clone(); // name, type, buffer, extras; not the large array
  source.setArray(src);
  target.setAttribute(semantic, copy.setArray(out).setNormalized(true).setSparse(false));
}

/** glTF-Transform's reader and writer with the extensions and codecs above; warnings and errors on stderr. */
function createIO() {
  const logger = new Logger(Logger.Verbosity.WARN); // warnings and errors on stderr, not progress notes
  const io = new NodeIO()
    .setLogger(logger)
    .registerExtensions([...KHRONOS_EXTENSIONS, EXTMeshoptCompression, KHRMeshQuantization])
    .registerDependencies({ "meshopt.encoder": MeshoptEncoder, "meshopt.decoder": MeshoptDecoder });
  return { io, logger };
}

/** Compress (or with `decode`, undo the meshopt layer of) one file; its sizes and milliseconds. */
async function processFile({ io, logger }, input, output, optionsObject, decode) {
  const options = { positionBits: 11, normalBits: 8, texcoordBits: 12, ...optionsObject };
  const start = Date.now();
  await Promise.all([MeshoptEncoder.ready, MeshoptDecoder.ready]);
  const bytesIn = readFileSync(input);
  const document = await io.readBinary(new Uint8Array(bytesIn.buffer, bytesIn.byteOffset, bytesIn.byteLength));
  document.setLogger(logger);
  if (decode) {
    for (const extension of document.getRoot().listExtensionsUsed()) {
      if (extension.extensionName === EXTMeshoptCompression.EXTENSION_NAME) extension.dispose();
    }
  } else {
    await compress(document, options);
  }
  const bytesOut = await io.writeBinary(document);
  writeFileSync(output, bytesOut);
  return { bytesIn: bytesIn.byteLength, bytesOut: bytesOut.byteLength, ms: Date.now() - start };
}

/**
 * `--serve`: compress one file per line of stdin ({"input", "output", "options"} JSON) and answer each with one JSON
 * line ({"bytesIn", "bytesOut", "ms"} or {"error"}) until stdin closes. A long-lived worker keeps one of these:
 * no start-up per file, and the code is compiled and optimised by the first files (a warm process compresses a
 * head with hair in ~0.8 s instead of ~1.3 s; headcast.export.compress).
 */
async function serve() {
  const tools = createIO();
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    let reply;
    try {
      const request = JSON.parse(line);
      reply = await processFile(tools, request.input, request.output, request.options ?? {}, false);
    } catch (err) {
      reply = { error: String(err?.stack ?? err).split("\n").slice(0, 4).join(" | ") };
    }
    process.stdout.write(JSON.stringify(reply) + "\n");
  }
  return 0;
}

async function main(argv) {
  if (argv.length === 1 && argv[0] === "--serve") return serve();
  const decode = argv[0] === "--decode";
  if (decode) argv = argv.slice(1);
  if (argv.length < 2 || argv.length > (decode ? 2 : 3)) {
    process.stderr.write("usage: node compress.mjs IN.glb OUT.glb [OPTIONS_JSON] | --decode IN.glb OUT.glb | --serve\n");
    return 2;
  }
  const [input, output, optionsText] = argv;
  const report = await processFile(createIO(), input, output, JSON.parse(optionsText ?? "{}"), decode);
  process.stdout.write(JSON.stringify(report) + "\n");
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
