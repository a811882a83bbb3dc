// node:test setup: a DOM for @grafana/data and React (happy-dom), .css imports as no-ops, and
// the bundler-only specifiers (isoscope-wasm/*, amd-module) resolved to stand-ins: tests give
// the panel a real WebAssembly module through provideIsoscope().
import { GlobalRegistrator } from '@happy-dom/global-registrator';
import Module from 'node:module';
import { register } from 'node:module';

GlobalRegistrator.register();
(Module as unknown as { _extensions: Record<string, () => void> })._extensions['.css'] = () => {};

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
