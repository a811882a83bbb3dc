// Loads the WebAssembly core once per page. The glue and the hashed .wasm are bundled by
// webpack (isoscope-wasm = the wasm/build.sh output); tests and the benchmark provide an
// already-created module instead (provideIsoscope), since Node cannot fetch the .wasm.
import createIsoscopeModule from 'isoscope-wasm/isoscope_core.mjs';
import wasmUrl from 'isoscope-wasm/isoscope_core.wasm';

import type { IsoscopeModule } from '../../isoscope';

export type { IsoscopeModule };

let pending: Promise<IsoscopeModule> | null = null;

/** Use this module instead of loading the bundled one (tests, benchmarks). */
export function provideIsoscope(module: Promise<IsoscopeModule> | IsoscopeModule): void {
  pending = Promise.resolve(module);
}

export class WasmBlockedError extends Error {
  readonly kind = 'csp';
}

/**
 * Browsers refuse WebAssembly.compile/instantiate under a Content-Security-Policy whose
 * script-src has neither 'wasm-unsafe-eval' nor 'unsafe-eval'; the messages vary by browser
 * ("Refused to compile or instantiate WebAssembly module because 'wasm-unsafe-eval' is not an
 * allowed source", "call to WebAssembly.instantiate() blocked by CSP").
 */
export function isCspBlock(error: unknown): boolean {
  const text = String(error instanceof Error ? error.message : error);
  return /unsafe-eval|Content Security Policy|blocked by CSP|CSP/i.test(text);
}

async function loadBundled(): Promise<IsoscopeModule> {
  let aborted: unknown = null;
  try {
    const module = await createIsoscopeModule({
      locateFile: () => wasmUrl,
      onAbort: (what: unknown) => {
        aborted = what;
      },
    });
    return module;
  } catch (e) {
    const cause = aborted ?? e;
    if (isCspBlock(cause)) throw new WasmBlockedError(String(cause));
    throw e instanceof Error ? e : new Error(String(cause));
  }
}

export function loadIsoscope(): Promise<IsoscopeModule> {
  if (!pending) {
    pending = loadBundled();
    // A failed load may be retried (after a CSP change and reload, say).
    pending.catch(() => {
      pending = null;
    });
  }
  return pending;
}
