import type { RecordType } from '@vita/dns-providers';

/** One address of one content node: the unit that is probed and published (one A or AAAA record). */
export interface Endpoint {
  /** `node@address`, unique. */
  key: string;
  node: string;
  /** Canonical (IPv6 per RFC 5952, no brackets). */
  address: string;
  type: RecordType;
}

/** What one probe of an endpoint saw, as a visitor would: the page through that node's lb. */
export interface ProbeResult {
  ok: boolean;
  /** ISO time the probe started. */
  at: string;
  durationMs: number;
  status?: number;
  /** The document version the page showed (its ETag `"v<n>…"`). */
  version?: number;
  /** The node whose lb answered (`x-vita-node`): another one when this node's lb passed the request to a backup. */
  servedBy?: string;
  /** Why it failed, one line. */
  error?: string;
}

/** One vantage point's judgement of one endpoint, after its own fall/rise hysteresis. */
export interface EndpointView {
  key: string;
  up: boolean;
  /** ISO time `up` last changed (or was first set). */
  since: string;
  last: ProbeResult | null;
}

/**
 * An operator's drain or undrain of a node. Wherever it is learned, the highest `seq` wins (then `at`,
 * then `by`): each new action on a node takes the highest `seq` its controller knows for it plus one,
 * so an action always follows the ones its controller had seen, whatever the clocks say.
 */
export interface DrainRecord {
  node: string;
  drained: boolean;
  /** Per node: one more than the highest known when the action was taken. */
  seq: number;
  reason: string;
  /** ISO time of the action. */
  at: string;
  /** The vantage point (controller) that took it. */
  by: string;
}

/** What one controller sees, shared with the others (token-protected). */
export interface VantageView {
  vantage: string;
  /** ISO time the view was made. */
  at: string;
  /** Completed rounds of probes; 0 until the first has finished (its judgements are not counted until then). */
  rounds: number;
  endpoints: EndpointView[];
  drains: DrainRecord[];
  /**
   * The other views this controller heard straight from their vantage points, with how long ago, so
   * that a controller that cannot reach one of them still counts it (one hop, never passed on again).
   */
  heard?: RelayedView[];
}

export interface RelayedView {
  view: VantageView;
  /** How long before sending the relaying controller received it. */
  ageMs: number;
}

export const endpointKey = (node: string, address: string): string => `${node}@${address}`;
