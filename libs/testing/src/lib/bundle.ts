import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { workspaceRoot } from './workspace';

/**
 * What an app's Docker image holds, outside Docker: a copy of `dist/apps/<app>` (the bundle with
 * its generated, pruned package.json and lock file) plus `npm ci --omit=dev`. Returns the folder.
 */
export function installBundle(app: string): { dir: string; remove(): void } {
  const dist = join(workspaceRoot(), 'dist', 'apps', app);
  if (!existsSync(join(dist, 'package-lock.json'))) throw new Error(`${dist} has no bundle: run \`npx nx run ${app}:build\``);
  const dir = mkdtempSync(join(tmpdir(), `vita-${app}-image-`));
  cpSync(dist, dir, { recursive: true });
  execFileSync('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'pipe', timeout: 240_000 });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Polls `url` until it answers `status` (bounded); returns the last status seen. */
export async function waitForStatus(url: string, status = 200, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let seen = 0;
  while (Date.now() < deadline) {
    seen = await fetch(url, { signal: AbortSignal.timeout(2000) }).then((r) => r.status, () => 0);
    if (seen === status) return seen;
    await new Promise((r) => setTimeout(r, 200));
  }
  return seen;
}

/** Build and test tools that must never be in an image. */
export const DEV_ONLY_PACKAGES = ['typescript', 'jest', 'nx', '@nx/webpack', 'webpack', 'ts-node', 'eslint', 'playwright-core', '@nestjs/testing', '@types/http-proxy'];
