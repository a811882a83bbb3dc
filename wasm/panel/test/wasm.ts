// The WebAssembly core for tests: built by wasm/build.sh into ISOSCOPE_WASM_DIR.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import type { IsoscopeModule } from '../../isoscope';

export const repoRoot = resolve(__dirname, '../../..');
export const wasmDir = resolve(process.env.ISOSCOPE_WASM_DIR ?? join(repoRoot, 'build/wasm'));

let module: Promise<IsoscopeModule> | null = null;

export function testWasm(): Promise<IsoscopeModule> {
  if (!module) {
    module = import(pathToFileURL(join(wasmDir, 'isoscope_core.mjs')).href).then((m) =>
      (m.default as (o: object) => Promise<IsoscopeModule>)({ wasmBinary: readFileSync(join(wasmDir, 'isoscope_core.wasm')) })
    );
  }
  return module;
}

export function goldenBundle(name = 'basic_gauss'): Uint8Array {
  return new Uint8Array(readFileSync(join(repoRoot, 'tests/golden/v1', `${name}.bundle`)));
}
