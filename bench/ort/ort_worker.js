#!/usr/bin/env node
// ONNX Runtime (CPU execution provider, onnxruntime-node) as a worker of
// bench/engine_compare.py: the reference engine for Tessera's ONNX backend.
//
//   node bench/ort/ort_worker.js --model FILE.onnx --threads T --input RAW --shape 1,3,224,224
//
// Session: all graph optimisations, sequential execution, T intra-op threads,
// 1 inter-op thread. Speaks engine_worker's protocol (bench/engine_worker.cc):
// "ready", then "run N" -> "ok <s> <s> ...", "dump PATH" -> "ok", "quit".
'use strict';
const fs = require('fs');
const readline = require('readline');
const ort = require('onnxruntime-node');

function parseArgs(argv) {
  const args = {};
  for (let i = 2; i + 1 < argv.length; i += 2) args[argv[i].replace(/^--/, '')] = argv[i + 1];
  for (const key of ['model', 'threads', 'input', 'shape']) {
    if (!(key in args)) throw new Error(`missing --${key}`);
  }
  return args;
}

async function main() {
  const args = parseArgs(process.argv);
  const session = await ort.InferenceSession.create(args.model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: Number(args.threads),
    interOpNumThreads: 1,
  });
  const shape = args.shape.split(',').map(Number);
  const bytes = fs.readFileSync(args.input);
  const values = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', values, shape)};
  const run = async () => (await session.run(feeds))[session.outputNames[0]];
  for (let i = 0; i < 3; ++i) await run();
  process.stdout.write('ready\n');
  for await (const line of readline.createInterface({input: process.stdin})) {
    const [verb, operand] = line.trim().split(/\s+/);
    if (verb === 'quit') break;
    if (verb === 'run') {
      const times = [];
      for (let i = 0; i < Number(operand); ++i) {
        const t0 = process.hrtime.bigint();
        await run();
        times.push(Number(process.hrtime.bigint() - t0) / 1e9);
      }
      process.stdout.write('ok ' + times.map((t) => t.toFixed(6)).join(' ') + '\n');
    } else if (verb === 'dump') {
      const out = await run();
      fs.writeFileSync(operand, Buffer.from(out.data.buffer, out.data.byteOffset, out.data.byteLength));
      process.stdout.write('ok\n');
    } else {
      process.stdout.write(`error unknown command: ${line}\n`);
      process.exit(1);
    }
  }
  process.exit(0);
}

main().catch((e) => {
  process.stdout.write(`error ${e.message.split('\n')[0]}\n`);
  process.exit(1);
});
