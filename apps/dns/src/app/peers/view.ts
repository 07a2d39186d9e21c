import type { DrainRecord, EndpointView, ProbeResult, RelayedView, VantageView } from '../model';

const MAX_ITEMS = 1000;
/** Relayed views a view may carry (one per other vantage point). */
const MAX_HEARD = 32;
/** A drain's `seq` stays far below 2^53 however many actions there are. */
export const MAX_SEQ = 2 ** 40;
/** Free text (reasons, errors) holds no control characters: it reaches terminals and pages. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z$/;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;

class ViewError extends Error {}
const fail = (where: string, what: string): never => {
  throw new ViewError(`${where}: ${what}`);
};

function probeResult(v: unknown, where: string): ProbeResult | null {
  if (v === null) return null;
  if (!isObject(v)) return fail(where, 'must be an object or null');
  if (typeof v.ok !== 'boolean') fail(`${where}.ok`, 'must be a boolean');
  if (!text(v.at, 40) || !ISO.test(v.at)) fail(`${where}.at`, 'must be an ISO time');
  if (typeof v.durationMs !== 'number' || !(v.durationMs >= 0)) fail(`${where}.durationMs`, 'must be a number ≥ 0');
  for (const k of ['status', 'version'] as const) if (v[k] !== undefined && !Number.isSafeInteger(v[k])) fail(`${where}.${k}`, 'must be a whole number');
  if (v.servedBy !== undefined && !(text(v.servedBy, 63) && LABEL.test(v.servedBy))) fail(`${where}.servedBy`, 'must be a DNS label');
  if (v.error !== undefined && !(text(v.error, 500) && !CONTROL.test(v.error))) fail(`${where}.error`, 'must be a string of at most 500 characters, without control characters');
  const r = v as unknown as ProbeResult;
  return { ok: r.ok, at: r.at, durationMs: r.durationMs, ...(r.status !== undefined ? { status: r.status } : {}), ...(r.version !== undefined ? { version: r.version } : {}), ...(r.servedBy ? { servedBy: r.servedBy } : {}), ...(r.error ? { error: r.error } : {}) };
}

/**
 * Pure: a view another controller sent (or answered with), checked field by field and copied (no
 * unknown field kept); throws an Error whose message names the field at fault.
 */
export function parseView(v: unknown): VantageView {
  if (!isObject(v)) return fail('view', 'must be a JSON object');
  if (!text(v.vantage, 63) || !LABEL.test(v.vantage)) fail('vantage', 'must be a DNS label');
  if (!text(v.at, 40) || !ISO.test(v.at)) fail('at', 'must be an ISO time');
  if (!Number.isSafeInteger(v.rounds) || (v.rounds as number) < 0) fail('rounds', 'must be a whole number ≥ 0');
  if (!Array.isArray(v.endpoints) || v.endpoints.length > MAX_ITEMS) fail('endpoints', `must be an array of at most ${MAX_ITEMS}`);
  if (!Array.isArray(v.drains) || v.drains.length > MAX_ITEMS) fail('drains', `must be an array of at most ${MAX_ITEMS}`);
  const endpoints = (v.endpoints as unknown[]).map((e, i): EndpointView => {
    const where = `endpoints[${i}]`;
    if (!isObject(e)) return fail(where, 'must be an object');
    if (!text(e.key, 200) || e.key.length === 0) fail(`${where}.key`, 'must be a node@address key');
    if (typeof e.up !== 'boolean') fail(`${where}.up`, 'must be a boolean');
    if (!text(e.since, 40) || !ISO.test(e.since)) fail(`${where}.since`, 'must be an ISO time');
    return { key: e.key as string, up: e.up as boolean, since: e.since as string, last: probeResult(e.last, `${where}.last`) };
  });
  const drains = (v.drains as unknown[]).map((d, i): DrainRecord => {
    const where = `drains[${i}]`;
    if (!isObject(d)) return fail(where, 'must be an object');
    if (!text(d.node, 63) || !LABEL.test(d.node)) fail(`${where}.node`, 'must be a DNS label');
    if (typeof d.drained !== 'boolean') fail(`${where}.drained`, 'must be a boolean');
    if (!Number.isSafeInteger(d.seq) || (d.seq as number) < 1 || (d.seq as number) > MAX_SEQ) fail(`${where}.seq`, `must be a whole number from 1 to ${MAX_SEQ}`);
    if (!text(d.reason, 500) || CONTROL.test(d.reason)) fail(`${where}.reason`, 'must be a string of at most 500 characters, without control characters');
    if (!text(d.at, 40) || !ISO.test(d.at)) fail(`${where}.at`, 'must be an ISO time');
    if (!text(d.by, 63) || !LABEL.test(d.by)) fail(`${where}.by`, 'must be a DNS label');
    return { node: d.node as string, drained: d.drained as boolean, seq: d.seq as number, reason: d.reason as string, at: d.at as string, by: d.by as string };
  });
  return { vantage: v.vantage as string, at: v.at as string, rounds: v.rounds as number, endpoints, drains };
}

/**
 * Pure: a view with the views its sender relays (`heard`, one hop: a relayed view carries none);
 * throws an Error naming the field at fault.
 */
export function parseExchange(v: unknown): VantageView {
  const view = parseView(v);
  const heard = (v as { heard?: unknown }).heard;
  if (heard === undefined) return view;
  if (!Array.isArray(heard) || heard.length > MAX_HEARD) return fail('heard', `must be an array of at most ${MAX_HEARD}`);
  const relayed = heard.map((h, i): RelayedView => {
    const where = `heard[${i}]`;
    if (!isObject(h)) return fail(where, 'must be an object');
    if (typeof h.ageMs !== 'number' || !(h.ageMs >= 0) || h.ageMs > 3_600_000) fail(`${where}.ageMs`, 'must be a number of ms from 0 to 3600000');
    if (isObject(h.view) && h.view.heard !== undefined) fail(`${where}.view.heard`, 'must be absent (views are relayed one hop)');
    try {
      return { view: parseView(h.view), ageMs: h.ageMs as number };
    } catch (err) {
      return fail(`${where}.view`, (err as Error).message);
    }
  });
  return { ...view, heard: relayed };
}
