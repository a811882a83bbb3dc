// The panel's non-chart states, each with a stable data-testid and a message that says what
// is wrong and what to do.
import React from 'react';

export type StateKind = 'loading' | 'no-bundle' | 'bad-bundle' | 'no-data' | 'missing-series' | 'wasm-blocked' | 'wasm-error' | 'error';

const TITLES: Record<StateKind, string> = {
  loading: 'Loading…',
  'no-bundle': 'No model bundle',
  'bad-bundle': 'The model bundle cannot be used',
  'no-data': 'No data',
  'missing-series': 'A model input is missing from the query',
  'wasm-blocked': 'WebAssembly is blocked by the Content Security Policy',
  'wasm-error': 'The WebAssembly core did not load',
  error: 'Error',
};

export function StateMessage({ kind, detail, children }: { kind: StateKind; detail?: string; children?: React.ReactNode }) {
  return (
    <div data-testid={`state-${kind}`} role={kind === 'loading' ? 'status' : 'alert'} style={{ padding: 8, fontFamily: 'sans-serif', fontSize: 12 }}>
      <b>{TITLES[kind]}</b>
      {detail && <p style={{ margin: '4px 0', whiteSpace: 'pre-wrap' }}>{detail}</p>}
      {children}
    </div>
  );
}

export const CSP_HELP =
  "This page's Content-Security-Policy does not allow WebAssembly. Add 'wasm-unsafe-eval' to " +
  "script-src (in Grafana: content_security_policy_template in grafana.ini, e.g. " +
  "script-src 'self' 'unsafe-eval' 'wasm-unsafe-eval' ...), then reload.";
