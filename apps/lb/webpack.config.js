// Bundles: main.js, worker.js (data-plane workers when LB_WORKERS > 1: no NestJS, no admin plane), healthcheck.js.
module.exports = require('../../tools/build/service.webpack')(__dirname, { entries: { worker: './src/worker.ts' } });
