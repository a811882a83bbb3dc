// Where the bundle comes from: the daemon's /api/v1/detectors/{name}/bundle or a file.

/**
 * A group of a `model: per: group` detector: its hash (16 hex digits, as GET
 * /api/v1/detectors/{name}/groups lists it), its key as the daemon writes it ({job="checkout"}),
 * or its label set ({job: 'checkout'}; the detector label is added), hashed here.
 */
export type GroupRef = string | Record<string, string>;

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK64 = (1n << 64n) - 1n;

/**
 * The group hash of native/config/shard.h: the labels sorted by name (bytewise), each
 * name "=" value in UTF-8, joined by the byte 0xFF; FNV-1a 64 of those bytes, 16 hex digits.
 */
export function groupHash(labels: Record<string, string>): string {
  const enc = new TextEncoder();
  const pairs = Object.entries(labels).map(([k, v]) => [enc.encode(k), enc.encode(v)] as const);
  const cmp = (a: Uint8Array, b: Uint8Array): number => {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
    return a.length - b.length;
  };
  pairs.sort((a, b) => cmp(a[0], b[0]));
  let h = FNV_OFFSET;
  const eat = (byte: number) => {
    h = ((h ^ BigInt(byte)) * FNV_PRIME) & MASK64;
  };
  pairs.forEach(([k, v], i) => {
    if (i > 0) eat(0xff);
    k.forEach(eat);
    eat(0x3d); // '='
    v.forEach(eat);
  });
  return h.toString(16).padStart(16, '0');
}

/** The path of a detector's bundle, relative to the daemon's root; with a group, that group's. */
export function bundlePath(detector: string, group?: GroupRef): string {
  const path = `api/v1/detectors/${encodeURIComponent(detector)}/bundle`;
  if (group === undefined || group === '') return path;
  const g = typeof group === 'string' ? group : groupHash({ detector, ...group });
  return `${path}?group=${encodeURIComponent(g)}`;
}

/**
 * The daemon URL of a detector's bundle. With `group`, the group's own bundle under `model: per:
 * group`; the daemon answers with the pooled one when the group has none (X-Isoscope-Model-Source).
 */
export function bundleUrl(daemonUrl: string, detector: string, group?: GroupRef): string {
  const base = daemonUrl.replace(/\/+$/, '');
  return `${base}/${bundlePath(detector, group)}`;
}

/** Which model the daemon sent: the group's own, the detector's pooled one, or not said. */
export interface BundleSource {
  source: 'group' | 'pooled' | null;
  version: string | null;
  /** Why the pooled model scores the group (no group bundle, too little history, refused). */
  reason: string | null;
}

export function bundleSourceOf(headers: Pick<Headers, 'get'>): BundleSource {
  const s = headers.get('X-Isoscope-Model-Source');
  return {
    source: s === 'group' || s === 'pooled' ? s : null,
    version: headers.get('X-Isoscope-Model-Version'),
    reason: headers.get('X-Isoscope-Pooled-Reason'),
  };
}

export async function fetchBundle(url: string, fetchImpl: typeof fetch = fetch): Promise<Uint8Array> {
  return (await fetchBundleWithSource(url, fetchImpl)).bytes;
}

export async function fetchBundleWithSource(
  url: string,
  fetchImpl: typeof fetch = fetch
): Promise<{ bytes: Uint8Array } & BundleSource> {
  let res: Response;
  try {
    res = await fetchImpl(url);
  } catch (e) {
    throw new Error(`cannot reach ${url} (${String(e)}); check the daemon URL and that isoscope serve ` +
      `allows this origin (web: cors_origin: in isoscope.yml)`);
  }
  if (!res.ok) {
    let why = '';
    try {
      const body = (await res.json()) as { error?: string };
      why = body.error ? `: ${body.error}` : '';
    } catch {
      // not JSON: the status says enough
    }
    throw new Error(`GET ${url} answered ${res.status}${why}`);
  }
  return { bytes: new Uint8Array(await res.arrayBuffer()), ...bundleSourceOf(res.headers) };
}
