// Builds dist/: module.js (AMD, as Grafana loads panel plugins) + plugin.json + the hashed
// .wasm, and the standalone what-if page (standalone.js + index.html) that `isoscope serve`
// serves at /. ISOSCOPE_WASM_DIR: where wasm/build.sh put isoscope_core.{mjs,wasm}.
const path = require('path');
const CopyWebpackPlugin = require('copy-webpack-plugin');

const wasmDir = path.resolve(process.env.ISOSCOPE_WASM_DIR || path.join(__dirname, '../../build/wasm'));
const outDir = path.resolve(process.env.ISOSCOPE_PANEL_DIST || path.join(__dirname, 'dist'));
const pluginId = 'isoscope-whatif-panel';

// plugin.json's %VERSION% and %TODAY% (Grafana create-plugin's placeholders), filled from the
// build: ISOSCOPE_VERSION is the isoscope binary's version (tests/panel/panel_step.sh passes
// it), the date SOURCE_DATE_EPOCH's or today's (UTC). packaging/panel_zip.sh sets both again
// for the release archive.
function pluginJson(content) {
  const version = process.env.ISOSCOPE_VERSION;
  if (!version) throw new Error('ISOSCOPE_VERSION is not set (tests/panel/panel_step.sh build sets it)');
  const epoch = process.env.SOURCE_DATE_EPOCH;
  const today = (epoch ? new Date(Number(epoch) * 1000) : new Date()).toISOString().slice(0, 10);
  return content.toString().replace(/%VERSION%/g, version).replace(/%TODAY%/g, today);
}

const rules = [
  { test: /\.[tj]sx?$/, exclude: /node_modules/, loader: 'esbuild-loader',
    options: { loader: 'tsx', target: 'es2018', jsx: 'automatic' } },
  { test: /\.wasm$/, type: 'asset/resource', generator: { filename: '[name].[contenthash:8][ext]' } },
];
const resolve = {
  extensions: ['.ts', '.tsx', '.js', '.mjs'],
  alias: { 'isoscope-wasm': wasmDir },
};
const common = { mode: 'production', context: path.join(__dirname, 'src'), module: { rules }, resolve,
  performance: { hints: false }, devtool: false };

module.exports = [
  {
    ...common,
    name: 'panel',
    entry: { module: './module.ts' },
    output: { path: outDir, filename: '[name].js', library: { type: 'amd' },
      publicPath: `public/plugins/${pluginId}/`, clean: false },
    // Grafana provides these at runtime (create-plugin's list, the ones this panel uses).
    externals: ['react', 'react-dom', '@grafana/data', '@grafana/ui', '@grafana/runtime',
      '@grafana/schema', { 'amd-module': 'module' }],
    plugins: [new CopyWebpackPlugin({ patterns: [{ from: 'plugin.json', to: '.', transform: pluginJson }, { from: 'img', to: 'img' }] })],
  },
  {
    ...common,
    name: 'standalone',
    entry: { standalone: './standalone/index.tsx' },
    output: { path: outDir, filename: '[name].js', publicPath: 'auto', clean: false },
    plugins: [new CopyWebpackPlugin({ patterns: [{ from: 'standalone/index.html', to: '.' }] })],
  },
];
