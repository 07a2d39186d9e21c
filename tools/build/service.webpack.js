// The webpack build every Vita service shares: a Node bundle for src/main.ts and each extra entry,
// node_modules left external, the pruned package.json and package-lock.json its image installs,
// and any asset folders copied beside the bundle.
const { NxAppWebpackPlugin } = require('@nx/webpack/app-plugin');
const { basename, join } = require('node:path');

/**
 * @param {string} appDir the app's folder (__dirname of its webpack.config.js)
 * @param {{ entries?: Record<string, string>, assets?: string[] }} [options] extra entries by bundle name, asset folders
 */
module.exports = function serviceWebpackConfig(appDir, options = {}) {
  return {
    output: {
      path: join(__dirname, '..', '..', 'dist', 'apps', basename(appDir)),
      clean: true,
      ...(process.env.NODE_ENV !== 'production' && { devtoolModuleFilenameTemplate: '[absolute-resource-path]' }),
    },
    plugins: [
      new NxAppWebpackPlugin({
        target: 'node',
        compiler: 'tsc',
        main: './src/main.ts',
        additionalEntryPoints: Object.entries({ healthcheck: './src/healthcheck.ts', ...options.entries }).map(([entryName, entryPath]) => ({ entryName, entryPath })),
        tsConfig: './tsconfig.app.json',
        assets: options.assets ?? [],
        optimization: false,
        outputHashing: 'none',
        generatePackageJson: true,
        sourceMap: true,
      }),
    ],
  };
};
