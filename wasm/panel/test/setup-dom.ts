// node:test setup: a DOM for @grafana/data and React (happy-dom), .css imports as no-ops, and
// the bundler-only specifiers (isoscope-wasm/*, amd-module) resolved to stand-ins: tests give
// the panel a real WebAssembly module through provideIsoscope().
import { GlobalRegistrator } from '@happy-dom/global-registrator';
import Module from 'node:module';
import { register } from 'node:module';

GlobalRegistrator.register();
type CjsModule = {
  _extensions: Record<string, () => void>;
  _resolveFilename: (request: string, ...rest: unknown[]) => string;
};
const cjs = Module as unknown as CjsModule;
cjs._extensions['.css'] = () => {};
// tsx runs the tests as CommonJS: bundler-only specifiers resolve to stand-ins here.
const stubs = new URL('./stubs/', import.meta.url).pathname;
const resolveFilename = cjs._resolveFilename;
cjs._resolveFilename = function (request: string, ...rest: unknown[]) {
  if (request === 'isoscope-wasm/isoscope_core.mjs') return `${stubs}isoscope_core.cjs`;
  if (request === 'isoscope-wasm/isoscope_core.wasm') return `${stubs}wasm_url.cjs`;
  if (request === 'amd-module') return `${stubs}wasm_url.cjs`;
  return resolveFilename.call(this, request, ...rest);
};

const hooks = `
export async function resolve(specifier, context, next) {
  if (specifier.endsWith('.css')) return { url: 'data:text/javascript,export default {}', shortCircuit: true };
  if (specifier === 'amd-module') return { url: 'data:text/javascript,export default undefined', shortCircuit: true };
  if (specifier.startsWith('isoscope-wasm/')) {
    const stub = specifier.endsWith('.wasm')
      ? 'export default ""'
      : 'export default () => Promise.reject(new Error("tests provide the module: provideIsoscope"))';
    return { url: 'data:text/javascript,' + encodeURIComponent(stub), shortCircuit: true };
  }
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`, import.meta.url);
