// The harness's web server (node:http, 127.0.0.1, a free port): the harness page, the built
// plugin under /public/plugins/<id>/ like Grafana serves it, the CSV as the query result and
// the bundle at the daemon's /api/v1/detectors/{name}/bundle path.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';

export const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json',
  '.html': 'text/html; charset=utf-8', '.csv': 'text/csv', '.svg': 'image/svg+xml', '.png': 'image/png' };

export const PLUGIN_ID = 'isoscope-whatif-panel';

/**
 * dist: built plugin; harnessJs: built harness script; csv: the query data; bundles:
 * {detector: file}; extra(url, send): more routes (true when it answered). GET /?<panel options as JSON in ?options=> renders the panel;
 * /csp/ is the same page under a CSP without 'wasm-unsafe-eval'.
 */
export function startServer({ dist, harnessJs, csv, bundles, extra }) {
  const page = (options) => `<!doctype html><html><head><meta charset="utf-8"><title>isoscope harness</title>
<style>body{margin:0;background:#111217;color:#ccc;font-family:sans-serif}</style></head>
<body><div id="root"></div>
<script>window.__harness = ${JSON.stringify({
    pluginUrl: `/public/plugins/${PLUGIN_ID}/module.js`,
    csvUrl: csv ? '/data/query.csv' : '',
    options,
    width: 1100,
    height: 460,
  })};</script><script src="/harness.js"></script></body></html>`;

  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const send = (status, body, type, headers = {}) => {
      res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', ...headers });
      res.end(body);
    };
    try {
      if (extra && extra(url, send)) return undefined;
      if (url.pathname === '/' || url.pathname === '/csp/') {
        const options = JSON.parse(url.searchParams.get('options') ?? '{}');
        const headers = url.pathname === '/csp/'
          ? { 'Content-Security-Policy': "default-src 'self'; script-src 'self' 'unsafe-inline'" }
          : {};
        return send(200, page(options), TYPES['.html'], headers);
      }
      if (url.pathname === '/harness.js') return send(200, readFileSync(harnessJs), TYPES['.js']);
      if (url.pathname === '/data/query.csv' && csv) return send(200, readFileSync(csv), TYPES['.csv']);
      const bundle = url.pathname.match(/^\/api\/v1\/detectors\/([^/]+)\/bundle$/);
      if (bundle) {
        const file = bundles[decodeURIComponent(bundle[1])];
        if (!file) return send(404, JSON.stringify({ error: `no detector '${bundle[1]}'` }), TYPES['.json']);
        return send(200, readFileSync(file), 'application/octet-stream');
      }
      const prefix = `/public/plugins/${PLUGIN_ID}/`;
      if (url.pathname.startsWith(prefix)) {
        const rel = normalize(url.pathname.slice(prefix.length));
        if (rel.startsWith('..')) return send(403, 'no', 'text/plain');
        return send(200, readFileSync(join(dist, rel)), TYPES[extname(rel)] ?? 'application/octet-stream');
      }
      send(404, 'not found', 'text/plain');
    } catch (e) {
      send(e.code === 'ENOENT' ? 404 : 500, String(e), 'text/plain');
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ server, base: `http://127.0.0.1:${server.address().port}` }));
  });
}
