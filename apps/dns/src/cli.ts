import { runCli } from './app/cli/cli';

// `node cli.js status` / `nx run dns:cli -- status`
runCli(process.argv.slice(2), { env: process.env, out: (l) => console.log(l), err: (l) => console.error(l) }).then((code) => {
  process.exitCode = code;
});
