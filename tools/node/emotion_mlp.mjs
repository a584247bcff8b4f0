// Reference JS forward pass of headcast's emotion MLP (headcast/emotion/data/*.json, format headcast-emotion-mlp/1).
// Same maths as headcast.emotion.model.mlp_forward: zero-anchored linear+ReLU MLP, weights clamped to [0, 1],
// angles bound * tanh(d / bound). Usage in a browser: emotionForward(doc, [7 intensities], identity?).

function rawForward(layers, x) {
  let h = x;
  layers.forEach((layer, i) => {
    const out = layer.bias.map((b, r) => layer.weight[r].reduce((acc, w, c) => acc + w * h[c], b));
    h = i < layers.length - 1 ? out.map((v) => Math.max(v, 0)) : out;
  });
  return h;
}

export function emotionForward(doc, intensities, identity = []) {
  const k = doc.num_identity;
  const ident = Array.from({ length: k }, (_, i) => identity[i] ?? 0);
  const x = [...intensities, ...ident];
  const x0 = [...intensities.map(() => 0), ...ident];
  const z = rawForward(doc.layers, x);
  const z0 = rawForward(doc.layers, x0);
  const out = z.map((v, i) => v - z0[i]);
  let start = 0;
  for (const block of doc.layout) {
    for (let i = start; i < start + block.size; i++) {
      out[i] = block.kind === "weights" ? Math.min(1, Math.max(0, out[i])) : block.bound * Math.tanh(out[i] / block.bound);
    }
    start += block.size;
  }
  return out;
}
