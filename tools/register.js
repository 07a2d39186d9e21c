// Lets `node -r ./tools/register.js tools/<script>.ts` run the TypeScript tools directly, with the
// workspace's @vita/* aliases, without a build step.
const { join } = require('node:path');
require('ts-node').register({ project: join(__dirname, 'tsconfig.json'), transpileOnly: true });
const paths = require('tsconfig-paths');
const base = paths.loadConfig(join(__dirname, '..', 'tsconfig.base.json'));
paths.register({ baseUrl: base.absoluteBaseUrl, paths: base.paths });
