import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { bundlePath, bundleUrl, fetchBundleWithSource, groupHash } from '../src/bundleSource';

// tools/shard_hash.py's output (written from the spec in native/config/shard.h, independently
// of this code and of the C++ one).
const golden = JSON.parse(
  readFileSync(join(__dirname, '..', '..', '..', 'tests', 'golden', 'shard', 'group_hash.json'), 'utf8')
) as { groups: { labels: Record<string, string>; hash: string }[] };

test('groupHash equals tools/shard_hash.py on every golden label set', () => {
  assert.ok(golden.groups.length >= 9);
  for (const g of golden.groups) assert.equal(groupHash(g.labels), g.hash, JSON.stringify(g.labels));
});

test('bundleUrl without a group is the pooled bundle, as before', () => {
  assert.equal(bundleUrl('http://isoscope:8080/', 'checkout'), 'http://isoscope:8080/api/v1/detectors/checkout/bundle');
  assert.equal(bundleUrl('', 'a b'), '/api/v1/detectors/a%20b/bundle');
  assert.equal(bundleUrl('http://x', 'checkout', ''), 'http://x/api/v1/detectors/checkout/bundle');
});

test('bundleUrl names the group by hash, by key, or by labels (hashed with the detector)', () => {
  assert.equal(
    bundleUrl('http://x', 'checkout', '0123456789abcdef'),
    'http://x/api/v1/detectors/checkout/bundle?group=0123456789abcdef'
  );
  assert.equal(bundlePath('checkout', '{job="payments"}'), 'api/v1/detectors/checkout/bundle?group=%7Bjob%3D%22payments%22%7D');
  // {detector: checkout, job: payments} is a golden label set: its hash from the golden file.
  const want = golden.groups.find((g) => g.labels.detector === 'checkout' && g.labels.job === 'payments' &&
    Object.keys(g.labels).length === 2)!.hash;
  assert.equal(bundleUrl('http://x', 'checkout', { job: 'payments' }), `http://x/api/v1/detectors/checkout/bundle?group=${want}`);
});

test('fetchBundleWithSource says whether the daemon sent the group model or the pooled one', async () => {
  const fake = (headers: Record<string, string>) =>
    (async () => new Response(new Uint8Array([1, 2, 3]), { status: 200, headers })) as unknown as typeof fetch;
  let r = await fetchBundleWithSource('u', fake({ 'X-Isoscope-Model-Source': 'group', 'X-Isoscope-Model-Version': 'v1' }));
  assert.deepEqual([...r.bytes], [1, 2, 3]);
  assert.equal(r.source, 'group');
  assert.equal(r.version, 'v1');
  assert.equal(r.reason, null);
  r = await fetchBundleWithSource('u', fake({ 'X-Isoscope-Model-Source': 'pooled', 'X-Isoscope-Pooled-Reason': 'no group model' }));
  assert.equal(r.source, 'pooled');
  assert.equal(r.reason, 'no group model');
  r = await fetchBundleWithSource('u', fake({}));
  assert.equal(r.source, null);
  const failing = (async () =>
    new Response(JSON.stringify({ error: "group 'x' is neither" }), { status: 400 })) as unknown as typeof fetch;
  await assert.rejects(fetchBundleWithSource('u', failing), /answered 400: group 'x' is neither/);
});
