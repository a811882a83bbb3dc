// Grafana serves a plugin from public/plugins/<id>/ (or a CDN): take the .wasm's base URL
// from where the AMD loader found module.js, so the hashed .wasm is fetched next to it.
import amdModule from 'amd-module';

declare let __webpack_public_path__: string;
const uri: string | undefined = (amdModule as { uri?: string } | undefined)?.uri;
if (uri) {
  __webpack_public_path__ = uri.slice(0, uri.lastIndexOf('/') + 1);
}
