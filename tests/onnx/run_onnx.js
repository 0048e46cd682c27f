// Runs the models that onnx_models exported in ONNX Runtime (the npm package
// onnxruntime-node, CPU) and compares its outputs with libnn's, element by element.
//
// usage: NODE_PATH=<dir>/node_modules node run_onnx.js OUTDIR/cases.json [tolerance]
// Prints the largest absolute deviation per model and overall; exits 1 if any exceeds the
// tolerance (default 1e-5) or a model fails to load or run.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

async function main() {
  const manifest = process.argv[2];
  const tolerance = Number(process.argv[3] || 1e-5);
  if (!manifest) throw new Error('usage: node run_onnx.js cases.json [tolerance]');
  const { cases } = JSON.parse(fs.readFileSync(manifest, 'utf8'));
  let worst = { deviation: 0, name: '' };
  let failed = false;
  for (const c of cases) {
    const session = await ort.InferenceSession.create(path.join(path.dirname(manifest), c.file));
    if (session.inputNames.join() !== 'input' || session.outputNames.join() !== 'output')
      throw new Error(`${c.name}: inputs ${session.inputNames}, outputs ${session.outputNames}`);
    const input = new ort.Tensor('float32', Float32Array.from(c.input), [c.rows, c.n_in]);
    const { output } = await session.run({ input });
    if (output.dims.join() !== [c.rows, c.n_out].join())
      throw new Error(`${c.name}: output shape ${output.dims}, expected ${[c.rows, c.n_out]}`);
    let deviation = 0;
    for (let i = 0; i < c.expected.length; i++) {
      const d = Math.abs(output.data[i] - c.expected[i]);
      if (!(d <= deviation)) deviation = d; // NaN counts as the worst
    }
    const ok = deviation <= tolerance;
    failed = failed || !ok;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(11)} max |onnxruntime - libnn| = ` +
                `${deviation.toExponential(3)}  (${c.rows}x${c.n_out} outputs; ${c.about})`);
    if (!(deviation <= worst.deviation)) worst = { deviation, name: c.name };
    await session.release();
  }
  console.log(`largest deviation: ${worst.deviation.toExponential(3)} (${worst.name}), ` +
              `tolerance ${tolerance}, onnxruntime-node ${ort.env.versions.node || ''}`.trim());
  process.exitCode = failed ? 1 : 0;
}

main().catch((e) => {
  console.error(`run_onnx.js: ${e.stack || e}`);
  process.exitCode = 1;
});
