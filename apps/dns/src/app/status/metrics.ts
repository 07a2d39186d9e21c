import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

/** Prometheus metrics of the dns controller: per node and vantage point, per provider. */
export class DnsMetrics {
  readonly registry = new Registry();
  private readonly gauge = <L extends string>(name: string, help: string, labelNames: L[]) => new Gauge<L>({ name, help, labelNames, registers: [this.registry] });
  private readonly counter = <L extends string>(name: string, help: string, labelNames: L[]) => new Counter<L>({ name, help, labelNames, registers: [this.registry] });

  readonly up = this.gauge('vita_dns_endpoint_up', '1 when the vantage point judges the node address up (after fall/rise)', ['node', 'address', 'vantage']);
  readonly published = this.gauge('vita_dns_endpoint_published', '1 when this controller wants the node address published', ['node', 'address']);
  readonly lastChange = this.gauge('vita_dns_endpoint_last_change_timestamp_seconds', 'When the published state of the node address last changed', ['node', 'address']);
  readonly drained = this.gauge('vita_dns_node_drained', '1 while an operator has drained the node', ['node']);
  readonly quorum = this.gauge('vita_dns_quorum', '1 while a majority of the vantage points is heard from (DNS changes are allowed)', []);
  readonly peerUp = this.gauge('vita_dns_peer_up', '1 when the peer controller answered the last exchange', ['peer']);
  readonly probes = this.counter('vita_dns_probes_total', 'Probes by node address and result', ['node', 'address', 'result']);
  readonly updates = this.counter('vita_dns_provider_updates_total', 'Record sets replaced, by provider and type', ['provider', 'type']);
  readonly corrections = this.counter('vita_dns_provider_corrections_total', 'Record sets found changed behind the controller and put back, by provider and type', ['provider', 'type']);
  readonly updateErrors = this.counter('vita_dns_provider_update_errors_total', 'Failed publications by provider and kind (auth, conflict, unreachable, throttled, refused, config)', ['provider', 'kind']);
  readonly providerOk = this.gauge('vita_dns_provider_ok', '1 when the last publication to the provider succeeded', ['provider']);
  readonly alerts = this.counter('vita_dns_alerts_total', 'Alert webhook deliveries by event and result', ['event', 'result']);

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'vita_dns_' });
  }
}
