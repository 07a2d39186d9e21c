import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { encodeAllSync, type EncodedBodies } from '../compression/encodings';

export interface Asset {
  /** Content-hashed file name, e.g. `site.3f9a1c2b7d.css`. */
  hashedName: string;
  body: Buffer;
  contentType: string;
  /** The body in every coding worth sending (text files compressed once, at start-up). */
  bodies: EncodedBodies;
}

/** Text formats are worth compressing; pictures and fonts are compressed already. */
const COMPRESSIBLE = new Set(['.css', '.svg']);

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
};

/** A folder shipped beside the code: `dist/apps/web/<name>` in the bundle, `src/<name>` in the sources. */
export function resourceDir(name: string, from = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, name))) return join(dir, name);
    if (existsSync(join(dir, 'src', name))) return join(dir, 'src', name);
    if (dirname(dir) === dir) throw new Error(`the ${name} folder is missing next to the application`);
  }
}

/** The static files, loaded once, each under a name carrying a hash of its content (so it can be cached forever). */
export class AssetStore {
  private readonly byName = new Map<string, Asset>();
  private readonly byHashedName = new Map<string, Asset>();

  constructor(
    dir: string,
    /** Where browsers fetch assets: `/assets` or the ASSET_BASE_URL. */
    readonly baseUrl: string,
  ) {
    for (const file of readdirSync(dir)) {
      const type = TYPES[extname(file).toLowerCase()];
      if (!type) continue;
      const body = readFileSync(join(dir, file));
      const hash = createHash('sha256').update(body).digest('hex').slice(0, 10);
      const ext = extname(file);
      const bodies = COMPRESSIBLE.has(ext.toLowerCase()) ? encodeAllSync(body) : { identity: body };
      const asset = { hashedName: `${file.slice(0, -ext.length)}.${hash}${ext}`, body, contentType: type, bodies };
      this.byName.set(file, asset);
      this.byHashedName.set(asset.hashedName, asset);
    }
  }

  /** Public URL of an asset by its plain name (`site.css`), or undefined when there is none. */
  url(name: string): string | undefined {
    const asset = this.byName.get(name);
    return asset && `${this.baseUrl}/${asset.hashedName}`;
  }

  byHashed(hashedName: string): Asset | undefined {
    return this.byHashedName.get(hashedName);
  }

  /** Every asset by hashed name, for publishing to object storage. */
  all(): Asset[] {
    return [...this.byHashedName.values()];
  }
}
