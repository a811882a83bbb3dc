// Where the bundle comes from: the daemon's /api/v1/detectors/{name}/bundle or a file.
export function bundleUrl(daemonUrl: string, detector: string): string {
  const base = daemonUrl.replace(/\/+$/, '');
  return `${base}/api/v1/detectors/${encodeURIComponent(detector)}/bundle`;
}

export async function fetchBundle(url: string, fetchImpl: typeof fetch = fetch): Promise<Uint8Array> {
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
  return new Uint8Array(await res.arrayBuffer());
}
