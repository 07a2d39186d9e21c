import type { JsonResume } from '@vita/contracts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { workspaceRoot } from './workspace';

/** A fresh copy of the fictional sample résumé that ships with Vita (tools/sample/resume.json). */
export function sampleResume(): JsonResume {
  return JSON.parse(readFileSync(join(workspaceRoot(), 'tools', 'sample', 'resume.json'), 'utf8')) as JsonResume;
}
