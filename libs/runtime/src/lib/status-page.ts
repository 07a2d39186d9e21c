/** The style of the operators' status pages (repl-admin, dns): readable at a glance, badges green (ok), amber (watch), red (act). */
export const STATUS_PAGE_STYLE = `
  body { font: 15px/1.45 system-ui, sans-serif; margin: 1.5rem; color: #1b1f24; background: #fff; }
  h1 { font-size: 1.4rem; margin: 0 0 .2rem; } h2 { font-size: 1.1rem; margin: 1.6rem 0 .5rem; }
  .muted { color: #57606a; } code { font-size: .85em; word-break: break-all; }
  table { border-collapse: collapse; width: 100%; } th, td { text-align: left; vertical-align: top; padding: .45rem .6rem; border-bottom: 1px solid #d0d7de; }
  th { background: #f6f8fa; font-weight: 600; }
  .badge { display: inline-block; padding: .1rem .55rem; border-radius: 1rem; font-weight: 700; color: #fff; }
  .ok { background: #1a7f37; } .watch { background: #9a6700; } .act { background: #cf222e; }
  .next { font-weight: 600; } ul { margin: .2rem 0; padding-left: 1.2rem; }
`;
