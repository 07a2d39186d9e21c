// Bundles: main.js, healthcheck.js; templates and static files beside them (dist/apps/web/views, assets).
module.exports = require('../../tools/build/service.webpack')(__dirname, { assets: ['./src/views', './src/assets'] });
