/** Parses `NAME=value` lines; blank lines and `#` comments are skipped. Errors name the line. */
export function parseEnvFile(text: string, file: string): Record<string, string> {
  const out: Record<string, string> = {};
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new Error(`${file}:${i + 1}: expected NAME=value`);
    out[m[1]] = m[2];
  });
  return out;
}
