import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength, ValidateIf } from 'class-validator';
import { Integer, LOG_LEVELS, Trimmed } from '@vita/runtime';

/** An optional whole number within [min, max]. */
const Bounded = (min: number, max: number): PropertyDecorator => (target, key) =>
  // Applied bottom-up like stacked decorators, so the integer check is the one a bad value is reported by.
  [IsOptional(), Integer(), IsInt(), Min(min), Max(max)].reverse().forEach((decorate) => decorate(target, key));

const NAME = /^(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?$/;
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
export const SERVER = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

/** Every setting the dns controller reads from its environment (the README's table lists the same). */
export class DnsEnv {
  @IsOptional() @IsString() HOST = '0.0.0.0';
  @Bounded(1, 65535) PORT = 3300;
  @IsOptional() @IsIn(LOG_LEVELS) LOG_LEVEL = 'info';

  /** The name visitors resolve (e.g. resume.example.org); one A/AAAA record per published node address. */
  @Trimmed() @Matches(NAME, { message: 'must be a fully qualified DNS name such as resume.example.org' }) DNS_NAME!: string;
  /** `node=address,…`: each content node's public addresses (IPv4 or IPv6; a node may be listed once per address). */
  @Trimmed() @IsString() DNS_NODES!: string;
  /** This controller's name among the vantage points (default: the host name). */
  @IsOptional() @Trimmed() @Matches(LABEL, { message: 'must be a DNS label (lowercase letters, digits, inner hyphens)' }) DNS_VANTAGE?: string;
  /** The other controllers' base URLs, `http(s)://host:port,…`: they share what they see and a node is withdrawn on a majority. */
  @IsOptional() @Trimmed() @IsString() DNS_PEERS?: string;
  /** Token the controllers present to each other (the same on every one). */
  @ValidateIf((e: DnsEnv) => e.DNS_PEERS !== undefined)
  @IsString({ message: 'must be set when DNS_PEERS is' })
  @MinLength(16, { message: 'must be at least 16 characters' })
  DNS_PEER_TOKEN?: string;
  /** PEM CA file https peers' certificates are verified against (default: Node's roots). */
  @IsOptional() @IsString() DNS_PEER_CA?: string;
  /** Bearer token of drain and undrain; unset: they are refused. */
  @IsOptional() @IsString() @MinLength(16, { message: 'must be at least 16 characters' }) DNS_ADMIN_TOKEN?: string;

  @IsOptional() @IsIn(['http', 'https']) DNS_PROBE_SCHEME = 'http';
  @Bounded(1, 65535) DNS_PROBE_PORT = 80;
  @IsOptional() @Matches(/^\/[\x21-\x7e]*$/, { message: 'must be a path starting with /' }) DNS_PROBE_PATH = '/';
  /** PEM CA file the nodes' https certificates are verified against (default: Node's roots). */
  @IsOptional() @IsString() DNS_PROBE_CA?: string;
  @Bounded(200, 60_000) DNS_PROBE_INTERVAL_MS = 2000;
  @Bounded(50, 30_000) DNS_PROBE_TIMEOUT_MS = 1500;
  /** Failed probes in a row that judge a node down, and good ones that judge it up again. */
  @Bounded(1, 20) DNS_FALL = 3;
  @Bounded(1, 20) DNS_RISE = 3;
  /** A withdrawn node is not published again before this long (a flapping node stays out). */
  @Bounded(0, 3_600_000) DNS_MIN_HOLD_MS = 20_000;
  /** A node serving an older document than another healthy node for this long is withdrawn; 0: never. */
  @Bounded(0, 86_400) DNS_STALE_AFTER_S = 120;
  /** TTL of the published records. */
  @Bounded(1, 86_400) DNS_TTL = 60;
  /** How often what each provider serves is read back and corrected when it differs. */
  @Bounded(1000, 3_600_000) DNS_CONVERGE_INTERVAL_MS = 10_000;
  /** Every call to a provider is bounded by this. */
  @Bounded(100, 120_000) DNS_PROVIDER_TIMEOUT_MS = 5000;

  /** RFC 2136 dynamic updates signed with TSIG (BIND, Knot, PowerDNS): the primary server, `host:port` (`[v6]:port`). */
  @IsOptional() @Trimmed() @Matches(SERVER, { message: 'must be host:port or [IPv6]:port' }) DNS_RFC2136_SERVER?: string;
  /** The zone updated (default: DNS_NAME without its first label). */
  @IsOptional() @Trimmed() @Matches(NAME, { message: 'must be a DNS zone name' }) DNS_RFC2136_ZONE?: string;
  /** BIND key file (as tsig-keygen writes it, hmac-sha256). */
  @ValidateIf((e: DnsEnv) => e.DNS_RFC2136_SERVER !== undefined)
  @IsString({ message: 'must be set when DNS_RFC2136_SERVER is' })
  DNS_TSIG_KEY_FILE?: string;
  /** The key's name in that file, when it holds several. */
  @IsOptional() @IsString() DNS_TSIG_KEY_NAME?: string;

  /** Route 53 hosted zone id; credentials come from the AWS SDK's usual sources (AWS_ACCESS_KEY_ID, …). */
  @IsOptional() @Trimmed() @Matches(/^[A-Z0-9]{1,32}$/, { message: 'must be a hosted zone id such as Z0123456789ABCDEFGHIJ' }) DNS_ROUTE53_ZONE_ID?: string;
  @IsOptional() @Trimmed() @Matches(/^[a-z]{2}(-[a-z]+)+-\d$/, { message: 'must be an AWS region such as us-east-1' }) DNS_ROUTE53_REGION = 'us-east-1';
  /** Another endpoint speaking Route 53's API (a compatible service; the tests' stand-in). */
  @IsOptional() @Trimmed() @Matches(/^https?:\/\/[^\s/]+\/?$/, { message: 'must be an http(s) URL with no path' }) DNS_ROUTE53_ENDPOINT?: string;

  /** JSON file the drain state is kept in, so that a restart keeps a drained node out. */
  @IsOptional() @IsString() DNS_STATE_FILE?: string;
  /** JSON-lines file every drain and undrain is appended to. */
  @IsOptional() @IsString() DNS_AUDIT_LOG?: string;
  /** Webhook (Slack-style JSON) told when a node is withdrawn or back, a provider fails, or quorum is lost. */
  @IsOptional() @Trimmed() @Matches(/^https?:\/\/\S+$/, { message: 'must be an http(s) URL' }) DNS_ALERT_WEBHOOK_URL?: string;
  @Bounded(60, 7 * 86_400) DNS_ALERT_REPEAT_SECONDS = 3600;
}
