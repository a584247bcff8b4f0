// The `web` quality's GLB compressor: headcast's own (uncompressed, float) avatar.glb in, the same scene out with
// quantised attributes (KHR_mesh_quantization) and meshoptimizer-compressed buffers (EXT_meshopt_compression).
// glTF-Transform does the work (its meshopt() transform: quantise, reorder, filter, encode), meshoptimizer's own
// encoder is the codec. Nothing here is headcast-specific. (Writing the mostly-zero morph-target normals as sparse
// accessors was tried: every variant came out larger after meshopt than dense, so everything is written dense.)
//
//   node compress.mjs IN.glb OUT.glb '{"positionBits": 11, "normalBits": 8, "texcoordBits": 12}'
//   node compress.mjs --decode IN.glb OUT.glb    the meshopt compression undone (the quantisation stays): a GLB
//                                                that tools without EXT_meshopt_compression can read and check
//
// Prints one JSON line: {"bytesIn": ..., "bytesOut": ..., "ms": ...}. Exit status 2 on a bad command line, 1 on
// any other failure (the message on stderr).
//
// build.mjs bundles this file with its npm packages into src/headcast/export/node/compress.mjs (one file, run by
// headcast.export.compress with `node`); it is not kept in git.
import { readFileSync, writeFileSync } from "node:fs";

import { Logger, NodeIO } from "@gltf-transform/core";
import { EXTMeshoptCompression, KHRMeshQuantization, KHRONOS_EXTENSIONS } from "@gltf-transform/extensions";
import { dedup, meshopt } from "@gltf-transform/functions";
import { MeshoptDecoder, MeshoptEncoder } from "meshoptimizer";

/** Quantise and meshopt-compress every mesh of `document` (glTF-Transform's meshopt transform, after dedup). */
async function compress(document, options) {
  await document.transform(
    dedup(),
    meshopt({
      encoder: MeshoptEncoder,
      level: "high",
      quantizePosition: options.positionBits,
      quantizeNormal: options.normalBits,
      quantizeTexcoord: options.texcoordBits,
    }),
  );
}

async function main(argv) {
  const decode = argv[0] === "--decode";
  if (decode) argv = argv.slice(1);
  if (argv.length < 2 || argv.length > (decode ? 2 : 3)) {
    process.stderr.write("usage: node compress.mjs IN.glb OUT.glb [OPTIONS_JSON] | --decode IN.glb OUT.glb\n");
    return 2;
  }
  const [input, output, optionsText] = argv;
  const options = { positionBits: 11, normalBits: 8, texcoordBits: 12, ...JSON.parse(optionsText ?? "{}") };
  const start = Date.now();
  await Promise.all([MeshoptEncoder.ready, MeshoptDecoder.ready]);
  const logger = new Logger(Logger.Verbosity.WARN); // warnings and errors on stderr, not progress notes
  const io = new NodeIO()
    .setLogger(logger)
    .registerExtensions([...KHRONOS_EXTENSIONS, EXTMeshoptCompression, KHRMeshQuantization])
    .registerDependencies({ "meshopt.encoder": MeshoptEncoder, "meshopt.decoder": MeshoptDecoder });
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
  process.stdout.write(
    JSON.stringify({ bytesIn: bytesIn.byteLength, bytesOut: bytesOut.byteLength, ms: Date.now() - start }) + "\n",
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
