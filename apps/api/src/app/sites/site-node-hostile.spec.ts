import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { PEER_URL } from '@vita/contracts';
import { SiteNodeBody } from './site-node.dto';

const accepted = (peerUrl: string) => validateSync(plainToInstance(SiteNodeBody, { address: '10.0.0.11', dbPort: 3306, peerUrl, state: 'active' })).length === 0;

/** What the api stores as a node's peerUrl, every lb must be able to use: lb crashes or drops the whole list otherwise. */
describe('PUT /api/v1/sites/nodes/:name peerUrl', () => {
  it.each(['https://10.0.0.11:99999', 'https://10.0.0.11:0', 'https://node-x', 'https://[::1]', 'https://-.-:8443'])('accepts %s only if lb can use it', (url) => {
    const usable = PEER_URL.test(url) && (() => {
      try {
        const port = Number(new URL(url).port);
        return port >= 1 && port <= 65535;
      } catch {
        return false;
      }
    })();
    expect({ url, accepted: accepted(url) }).toEqual({ url, accepted: usable });
  });
});
