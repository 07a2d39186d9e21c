import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The Nx workspace root: the nearest directory at or above `from` holding nx.json. */
export function workspaceRoot(from: string = __dirname): string {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no nx.json at or above ${from}`);
  }
}
