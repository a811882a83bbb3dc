// Builds dist/: module.js (AMD, as Grafana loads panel plugins) + plugin.json + the hashed
// .wasm, and the standalone what-if page (standalone.js + index.html) that `isoscope serve`
// serves at /. ISOSCOPE_WASM_DIR: where wasm/build.sh put isoscope_core.{mjs,wasm}.
const path = require('path');
const CopyWebpackPlugin = require('copy-webpack-plugin');

const wasmDir = path.resolve(process.env.ISOSCOPE_WASM_DIR || path.join(__dirname, '../../build/wasm'));
const outDir = path.resolve(process.env.ISOSCOPE_PANEL_DIST || path.join(__dirname, 'dist'));
const pluginId = 'isoscope-whatif-panel';

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
    plugins: [new CopyWebpackPlugin({ patterns: [{ from: 'plugin.json', to: '.' }, { from: 'img', to: 'img' }] })],
  },
  {
    ...common,
    name: 'standalone',
    entry: { standalone: './standalone.tsx' },
    output: { path: outDir, filename: '[name].js', publicPath: 'auto', clean: false },
    plugins: [new CopyWebpackPlugin({ patterns: [{ from: '../static/index.html', to: '.' }] })],
  },
];
