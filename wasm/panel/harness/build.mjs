// Bundles harness/main.tsx (react, react-dom, @grafana/data included) into one script.
//   node harness/build.mjs OUT_DIR   (default ../../build/panel-harness)
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? join(here, '../../../build/panel-harness'));
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(here, 'main.tsx')],
  bundle: true,
  format: 'iife',
  outfile: join(out, 'harness.js'),
  define: { 'process.env.NODE_ENV': '"production"' },
  loader: { '.css': 'empty' },
  jsx: 'automatic',
  minify: true,
  logLevel: 'warning',
});
console.log(`wrote ${join(out, 'harness.js')}`);
